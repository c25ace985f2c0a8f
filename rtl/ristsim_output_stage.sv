// ristsim_output_stage: bias add and conversion to the output format, registered.
//
// Algorithm: acc = ovf(acc + bias) on AccWidth bits (docs/datapath.md step 5,
// Saturate as the accumulator's), then out = quantize(O, acc * 2^-FracBits,
// index) (step 6) by ristsim_out_fixed or ristsim_out_minifloat: the one
// rounding decision of rounding.h on the dropped bits, then the overflow mode.
// Stochastic rounding (OutRound 5) draws its bits from ristsim_splitmix with
// the layer's key and the element index.
// Cost: one adder, the converter (a rounding incrementer and a clamp; a
// leading-one detector and barrel shifter for minifloat), O(log AccWidth)
// delay, O(1) in K.
module ristsim_output_stage #(
  parameter int unsigned AccWidth      = 32,
  parameter int unsigned BiasWidth     = 32,     // the aligned bias
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
  parameter int unsigned RandWidth     = 16
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 valid_i,
  input  logic [AccWidth-1:0]  acc_i,
  input  logic                 acc_ovf_i,
  input  logic [BiasWidth-1:0] bias_i,
  input  logic [63:0]          index_i,
  input  logic [63:0]          key_i,
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
  end
`endif

  localparam int unsigned AddWidth = (AccWidth > BiasWidth ? AccWidth : BiasWidth) + 1;
  logic [AddWidth-1:0] total;
  logic [AccWidth-1:0] acc_b;
  logic                bias_fits;
  assign total     = AddWidth'($signed(acc_i)) + AddWidth'($signed(bias_i));
  assign bias_fits = (total[AddWidth-1:AccWidth-1] == '0) |
                     (total[AddWidth-1:AccWidth-1] == '1);
  if (Saturate) begin : g_saturate
    assign acc_b = bias_fits ? total[AccWidth-1:0]
                             : {total[AddWidth-1], {(AccWidth-1){~total[AddWidth-1]}}};
  end else begin : g_wrap
    assign acc_b = total[AccWidth-1:0];
  end

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
      .RandWidth(RandWidth)
    ) u_convert (
      .acc_i (acc_b),
      .rand_i(rand_v),
      .out_o (out_d),
      .sat_o (sat_d)
    );
  end else begin : g_minifloat
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
        acc_ovf_q <= acc_ovf_i | ~bias_fits;
      end
    end
  end

  assign valid_o   = valid_q;
  assign out_o     = out_q;
  assign sat_o     = sat_q;
  assign acc_ovf_o = acc_ovf_q;

endmodule
