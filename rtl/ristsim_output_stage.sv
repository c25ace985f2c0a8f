// ristsim_output_stage: bias add and conversion to the output format, registered.
//
// Algorithm: acc = ovf(acc + bias) on AccWidth bits (docs/datapath.md step 5,
// Saturate as the accumulator's), then out = quantize(O, acc * 2^-FracBits,
// index) (step 6) by ristsim_out_fixed or ristsim_out_minifloat: the one
// rounding decision of rounding.h on the dropped bits, then the overflow mode.
// Stochastic rounding (OutRound 5) draws its bits from ristsim_splitmix with
// the layer's key and the element index.
// RuntimeFl = 1 (arch runtime_fl, fixed point only): the fractional lengths of
// the layer are a configuration register, cfg_fl_i = {act, wgt, bias, out}
// (8-bit signed each, act in the top byte), written when cfg_we_i is high
// (between layers, with the pipeline empty; cleared by reset). F = act + wgt
// (the accumulator is on the products' grid); the bias arrives unaligned
// (its exactly_fixed integer) and is shifted by bias - F at run time
// (ristsim_shift_round, AlignRound; left shifts beyond AccWidth are clamped:
// the sum then overflows alike), the output conversion by F - out.
// Cost: one adder, the converter (a rounding incrementer and a clamp; a
// leading-one detector and barrel shifter for minifloat), O(log AccWidth)
// delay, O(1) in K.
module ristsim_output_stage #(
  parameter int unsigned AccWidth      = 32,
  parameter int unsigned BiasWidth     = 32,     // the aligned bias (RuntimeFl: unaligned)
  parameter bit          Saturate      = 1'b1,   // the accumulator's overflow (else wrap)
  parameter int          FracBits      = 0,      // F of the accumulator grid 2^-F
  parameter int unsigned OutKind       = 0,      // 0 fixed, 1 minifloat
  parameter int unsigned OutWidth      = 8,
  parameter int          OutFl         = 0,      // fixed
  parameter int unsigned OutExpBits    = 0,      // minifloat E
  parameter int unsigned OutMantBits   = 0,      // minifloat M
  parameter int          OutEmin       = 0,      // minifloat emin
  parameter int unsigned OutMaxMag     = 0,      // minifloat largest finite magnitude code
  parameter int unsigned OutSpecialMag = 0,      // minifloat infinity / NaN magnitude code
  parameter bit          OutSubnormals = 1'b1,
  parameter bit          OutKeepSign   = 1'b0,
  parameter int unsigned OutOvf        = 0,      // 0 saturate, 1 wrap, 2 special
  parameter int unsigned OutRound      = 0,      // ristsim_round_up's modes
  parameter int unsigned RandWidth     = 16,
  parameter bit          RuntimeFl     = 1'b0,   // shifts from the configuration register
  parameter int unsigned AlignRound    = 0       // RuntimeFl: the bias alignment's rounding
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 valid_i,
  input  logic [AccWidth-1:0]  acc_i,
  input  logic                 acc_ovf_i,
  input  logic [BiasWidth-1:0] bias_i,
  input  logic [63:0]          index_i,
  input  logic [63:0]          key_i,
  input  logic                 cfg_we_i,
  input  logic [31:0]          cfg_fl_i,
  output logic                 valid_o,
  output logic [OutWidth-1:0]  out_o,
  output logic                 sat_o,
  output logic                 acc_ovf_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (OutKind <= 1) else $fatal(1, "ristsim_output_stage: outputs are fixed or minifloat");
    assert (OutKind != 1 || OutWidth == OutExpBits + OutMantBits + 1)
      else $fatal(1, "ristsim_output_stage: a minifloat output is E + M + 1 bits");
    assert (!RuntimeFl || (OutKind == 0 && OutRound != 5 && BiasWidth + AccWidth <= 61))
      else $fatal(1, "ristsim_output_stage: runtime_fl needs a deterministic fixed-point output");
  end
`endif

  // The layer's shifts (RuntimeFl): bias - F for the bias, F - out for the output.
  localparam int unsigned ShWidth = 10;
  logic [ShWidth-1:0] bias_shift, out_shift;
  localparam int unsigned BiasAlWidth = RuntimeFl ? BiasWidth + AccWidth : BiasWidth;
  logic [BiasAlWidth-1:0] bias_al;
  if (RuntimeFl) begin : g_cfg
    logic [31:0]        cfg_q;
    logic [ShWidth-1:0] frac;  // F = act FL + wgt FL
    always_ff @(posedge clk_i or negedge rst_ni) begin : p_cfg
      if (!rst_ni) begin
        cfg_q <= '0;
      end else if (cfg_we_i) begin
        cfg_q <= cfg_fl_i;
      end
    end
    assign frac       = ShWidth'($signed(cfg_q[31:24])) + ShWidth'($signed(cfg_q[23:16]));
    assign bias_shift = ShWidth'($signed(cfg_q[15:8])) - frac;
    assign out_shift  = frac - ShWidth'($signed(cfg_q[7:0]));
    ristsim_shift_round #(
      .InWidth (BiasWidth),
      .ShWidth (ShWidth),
      .MaxLeft (AccWidth),
      .Mode    (AlignRound),
      .OutWidth(BiasAlWidth)
    ) u_bias_shift (
      .val_i  (bias_i),
      .shift_i(bias_shift),
      .val_o  (bias_al)
    );
  end else begin : g_no_cfg
    logic unused_cfg;
    assign unused_cfg = ^{cfg_we_i, cfg_fl_i};
    assign bias_shift = '0;
    assign out_shift  = '0;
    assign bias_al    = bias_i;
    logic unused_bias_shift;
    assign unused_bias_shift = ^bias_shift;
  end

  logic [AccWidth-1:0] acc_b;
  logic                bias_ovf;
  ristsim_ovf_add #(
    .AWidth  (AccWidth),
    .BWidth  (BiasAlWidth),
    .OutWidth(AccWidth),
    .Saturate(Saturate)
  ) u_bias_add (
    .a_i  (acc_i),
    .b_i  (bias_al),
    .sum_o(acc_b),
    .ovf_o(bias_ovf)
  );

  logic [RandWidth-1:0] rand_v;
  if (OutRound == 5) begin : g_stochastic
    ristsim_splitmix #(
      .RandWidth(RandWidth)
    ) u_splitmix (
      .key_i  (key_i),
      .index_i(index_i),
      .rand_o (rand_v)
    );
  end else begin : g_deterministic
    assign rand_v = '0;  // not stochastic: no random bits
    logic unused_key;
    assign unused_key = ^{key_i, index_i};
  end

  logic [OutWidth-1:0] out_d;
  logic                sat_d;
  if (OutKind == 0) begin : g_fixed
    ristsim_out_fixed #(
      .AccWidth (AccWidth),
      .FracBits (FracBits),
      .OutWidth (OutWidth),
      .OutFl    (OutFl),
      .Mode     (OutRound),
      .Wrap     (OutOvf == 1),
      .RandWidth(RandWidth),
      .Runtime  (RuntimeFl),
      .ShWidth  (ShWidth)
    ) u_convert (
      .acc_i  (acc_b),
      .rand_i (rand_v),
      .shift_i(out_shift),
      .out_o  (out_d),
      .sat_o  (sat_d)
    );
  end else begin : g_minifloat
    logic unused_out_shift;
    assign unused_out_shift = ^out_shift;
    ristsim_out_minifloat #(
      .AccWidth  (AccWidth),
      .FracBits  (FracBits),
      .ExpBits   (OutExpBits),
      .MantBits  (OutMantBits),
      .Emin      (OutEmin),
      .MaxMag    (OutMaxMag),
      .SpecialMag(OutSpecialMag),
      .Subnormals(OutSubnormals),
      .KeepSign  (OutKeepSign),
      .Special   (OutOvf == 2),
      .Mode      (OutRound),
      .RandWidth (RandWidth)
    ) u_convert (
      .acc_i (acc_b),
      .rand_i(rand_v),
      .out_o (out_d),
      .sat_o (sat_d)
    );
  end

  logic                valid_q, sat_q, acc_ovf_q;
  logic [OutWidth-1:0] out_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin : p_out
    if (!rst_ni) begin
      valid_q   <= 1'b0;
      out_q     <= '0;
      sat_q     <= 1'b0;
      acc_ovf_q <= 1'b0;
    end else begin
      valid_q <= valid_i;
      if (valid_i) begin
        out_q     <= out_d;
        sat_q     <= sat_d;
        acc_ovf_q <= acc_ovf_i | bias_ovf;
      end
    end
  end

  assign valid_o   = valid_q;
  assign out_o     = out_q;
  assign sat_o     = sat_q;
  assign acc_ovf_o = acc_ovf_q;

endmodule
