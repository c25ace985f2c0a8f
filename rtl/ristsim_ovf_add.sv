// ristsim_ovf_add: a two's complement add with the accumulator's overflow mode.
//
// Algorithm: sum = a + b, exact on max(AWidth, BWidth, OutWidth) + 1 bits,
// then onto OutWidth bits: saturate (Saturate: the extreme of the sum's sign)
// or wrap (keep the low bits) (docs/datapath.md steps 4 and 5, overflow.h).
// ovf_o: the sum does not fit OutWidth bits, i.e. the overflow mode changed it.
// Used by the accumulator, the output stage's bias add and the array's
// partial-sum adder, so the one overflow rule is written once.
// Cost: one adder and an OutWidth-bit clamp, O(log OutWidth) delay.
module ristsim_ovf_add #(
  parameter int unsigned AWidth   = 32,
  parameter int unsigned BWidth   = 32,
  parameter int unsigned OutWidth = 32,
  parameter bit          Saturate = 1'b1
) (
  input  logic [AWidth-1:0]   a_i,
  input  logic [BWidth-1:0]   b_i,
  output logic [OutWidth-1:0] sum_o,
  output logic                ovf_o
);

  localparam int unsigned InMax    = AWidth > BWidth ? AWidth : BWidth;
  localparam int unsigned AddWidth = (InMax > OutWidth ? InMax : OutWidth) + 1;

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (OutWidth >= 2 && AddWidth <= 64)
      else $fatal(1, "ristsim_ovf_add: OutWidth must be >= 2 and the sum at most 64 bits");
  end
`endif

  logic [AddWidth-1:0] total;
  logic                fits;
  assign total = AddWidth'($signed(a_i)) + AddWidth'($signed(b_i));
  // total fits OutWidth bits iff its bits AddWidth-1 .. OutWidth-1 all agree.
  assign fits  = (total[AddWidth-1:OutWidth-1] == '0) | (total[AddWidth-1:OutWidth-1] == '1);
  if (Saturate) begin : g_saturate
    assign sum_o = fits ? total[OutWidth-1:0]
                        : {total[AddWidth-1], {(OutWidth-1){~total[AddWidth-1]}}};
  end else begin : g_wrap
    assign sum_o = total[OutWidth-1:0];
  end
  assign ovf_o = ~fits;

endmodule
