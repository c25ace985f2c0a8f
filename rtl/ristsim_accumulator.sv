// ristsim_accumulator: the PE's accumulator register.
//
// Algorithm: on a valid chunk, acc = ovf(first ? sum : acc + sum) on AccWidth
// bits, ovf = saturate or wrap (Saturate; docs/datapath.md step 4). The add is
// max(AccWidth, SumWidth) + 1 bits wide, so it is exact before ovf; ovf_o is
// sticky over the chunks of one output element. valid_o pulses one cycle after
// the last chunk, with acc_o and tag_o of that element.
// Cost: one adder and one AccWidth register, O(1) in K.
module ristsim_accumulator #(
  parameter int unsigned SumWidth = 20,
  parameter int unsigned AccWidth = 32,
  parameter bit          Saturate = 1'b1,
  parameter int unsigned TagWidth = 1
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  input  logic                valid_i,
  input  logic                first_i,
  input  logic                last_i,
  input  logic [TagWidth-1:0] tag_i,
  input  logic [SumWidth-1:0] sum_i,
  output logic                valid_o,
  output logic [AccWidth-1:0] acc_o,
  output logic                ovf_o,
  output logic [TagWidth-1:0] tag_o
);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (AccWidth >= 2 && AccWidth <= 62)
      else $fatal(1, "ristsim_accumulator: AccWidth must be 2..62");
  end
`endif

  logic [AccWidth-1:0] acc_d, acc_q;
  logic                ovf_d, ovf_q, add_ovf;
  logic                done_q;
  logic [TagWidth-1:0] tag_q;

  ristsim_ovf_add #(
    .AWidth  (AccWidth),
    .BWidth  (SumWidth),
    .OutWidth(AccWidth),
    .Saturate(Saturate)
  ) u_add (
    .a_i  (first_i ? '0 : acc_q),
    .b_i  (sum_i),
    .sum_o(acc_d),
    .ovf_o(add_ovf)
  );
  assign ovf_d = (first_i ? 1'b0 : ovf_q) | add_ovf;

  always_ff @(posedge clk_i or negedge rst_ni) begin : p_acc
    if (!rst_ni) begin
      acc_q  <= '0;
      ovf_q  <= 1'b0;
      done_q <= 1'b0;
      tag_q  <= '0;
    end else begin
      done_q <= valid_i & last_i;
      if (valid_i) begin
        acc_q <= acc_d;
        ovf_q <= ovf_d;
        tag_q <= tag_i;
      end
    end
  end

  assign valid_o = done_q;
  assign acc_o   = acc_q;
  assign ovf_o   = ovf_q;
  assign tag_o   = tag_q;

endmodule
