// ristsim_adder_tree: the widening adder tree of the PE.
//
// Algorithm: Levels = ceil(log2 NumLanes) levels of pairwise adders; level l
// has ceil(NumLanes / 2^l) nodes of InWidth + l bits (growth.h
// tree_level_type, restated here: every add sign-extends both operands by one
// bit, so no level can overflow and the sum is exact); an odd node out is
// sign-extended to the next level. A pipeline register follows level l when
// PipeEvery > 0 and l is a multiple of PipeEvery; valid_i and tag_i travel
// along with the data. The levels live in two flat vectors (node l, j at
// Offset(l) + j * (InWidth + l)), which yosys reads (no packed 2-D arrays).
// Cost: NumLanes - 1 adders, O(K) area, O(log K) delay.
module ristsim_adder_tree #(
  parameter int unsigned NumLanes  = 16,
  parameter int unsigned InWidth   = 16,
  parameter int unsigned PipeEvery = 1,  // levels per pipeline register (0: none)
  parameter int unsigned TagWidth  = 1
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        valid_i,
  input  logic [TagWidth-1:0]         tag_i,
  input  logic [NumLanes*InWidth-1:0] data_i,
  output logic                        valid_o,
  output logic [TagWidth-1:0]         tag_o,
  output logic [InWidth+$clog2(NumLanes)-1:0] sum_o
);

  localparam int unsigned Levels   = $clog2(NumLanes);  // ceil(log2 NumLanes)
  localparam int unsigned SumWidth = InWidth + Levels;

  // Nodes of level l: ceil(NumLanes / 2^l).
  function automatic int unsigned nodes(input int unsigned l);
    nodes = (NumLanes + (1 << l) - 1) >> l;
  endfunction
  // Bit offset of level l in the flat level vectors.
  function automatic int unsigned offset(input int unsigned l);
    int unsigned i;
    offset = 0;
    for (i = 0; i < l; i = i + 1) offset = offset + nodes(i) * (InWidth + i);
  endfunction
  localparam int unsigned TotalWidth = offset(Levels + 1);
  localparam int unsigned SumOffset  = offset(Levels);

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (NumLanes >= 1 && NumLanes <= 256)
      else $fatal(1, "ristsim_adder_tree: NumLanes must be 1..256");
    assert (nodes(Levels) == 1) else $fatal(1, "ristsim_adder_tree: the last level has one node");
  end
`endif

  // node_q: level 0 the inputs; level l >= 1 the sums of level l (registered or not).
  // node_d: the sums of level l before its register (level 0 unused).
  // split_var: Verilator splits the vectors into their levels (no false
  // combinational loop); with one lane there is nothing to split.
  /* verilator lint_off SPLITVAR */
  logic [TotalWidth-1:0] node_d /* verilator split_var */;
  logic [TotalWidth-1:0] node_q /* verilator split_var */;
  logic [Levels:0]                valid_l /* verilator split_var */;
  logic [(Levels+1)*TagWidth-1:0] tag_l /* verilator split_var */;
  /* verilator lint_on SPLITVAR */
  assign node_q[0 +: NumLanes*InWidth] = data_i;
  assign node_d[0 +: NumLanes*InWidth] = '0;
  assign valid_l[0] = valid_i;
  assign tag_l[0 +: TagWidth] = tag_i;

  for (genvar l = 1; l <= Levels; l++) begin : g_level
    localparam int unsigned W    = InWidth + l;      // this level's node width
    localparam int unsigned PW   = InWidth + l - 1;  // the previous level's
    localparam int unsigned Off  = offset(l);
    localparam int unsigned POff = offset(l - 1);
    localparam int unsigned N    = nodes(l - 1);     // nodes of the previous level
    for (genvar j = 0; j < N / 2; j++) begin : g_add
      assign node_d[Off + j*W +: W] = W'($signed(node_q[POff + 2*j*PW +: PW])) +
                                      W'($signed(node_q[POff + (2*j+1)*PW +: PW]));
    end
    if (N % 2 == 1) begin : g_odd  // the odd node out, sign-extended
      assign node_d[Off + (N/2)*W +: W] = W'($signed(node_q[POff + (N-1)*PW +: PW]));
    end
    if (PipeEvery > 0 && l % PipeEvery == 0) begin : g_reg
      logic [nodes(l)*W-1:0] lvl_q;
      logic                  valid_q;
      logic [TagWidth-1:0]   tag_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin : p_reg
        if (!rst_ni) begin
          lvl_q   <= '0;
          valid_q <= 1'b0;
          tag_q   <= '0;
        end else begin
          lvl_q   <= node_d[Off +: nodes(l)*W];
          valid_q <= valid_l[l-1];
          tag_q   <= tag_l[(l-1)*TagWidth +: TagWidth];
        end
      end
      assign node_q[Off +: nodes(l)*W]     = lvl_q;
      assign valid_l[l]                    = valid_q;
      assign tag_l[l*TagWidth +: TagWidth] = tag_q;
    end else begin : g_wire
      assign node_q[Off +: nodes(l)*W]     = node_d[Off +: nodes(l)*W];
      assign valid_l[l]                    = valid_l[l-1];
      assign tag_l[l*TagWidth +: TagWidth] = tag_l[(l-1)*TagWidth +: TagWidth];
    end
  end

  if (Levels == 0 || PipeEvery == 0 || Levels < PipeEvery) begin : g_no_reg
    logic unused_clk;
    assign unused_clk = clk_i ^ rst_ni;
  end

`ifndef SYNTHESIS
  // Reference check (simulation only): every valid sum is the exact sum of the
  // chunk's inputs, added here in 64 bits and delayed by the tree's registers.
  localparam int unsigned Regs = PipeEvery > 0 ? Levels / PipeEvery : 0;
  logic [63:0] ref_sum;
  logic [63:0] ref_pipe [Regs+1];
  always_comb begin : p_ref_sum
    ref_sum = '0;
    for (int unsigned i = 0; i < NumLanes; i++) begin
      ref_sum = ref_sum + 64'($signed(data_i[i*InWidth +: InWidth]));
    end
  end
  assign ref_pipe[0] = ref_sum;
  for (genvar r = 1; r <= Regs; r++) begin : g_ref_reg
    always_ff @(posedge clk_i or negedge rst_ni) begin : p_ref_reg
      if (!rst_ni) ref_pipe[r] <= '0;
      else         ref_pipe[r] <= ref_pipe[r-1];
    end
  end
  always_ff @(posedge clk_i) begin : p_ref_check
    if (rst_ni && valid_o) begin
      assert (sum_o == SumWidth'(ref_pipe[Regs]))
        else $error("ristsim_adder_tree: sum %0d is not the sum of the inputs %0d",
                    $signed(sum_o), $signed(ref_pipe[Regs]));
    end
  end
`endif

  logic unused_level0;
  assign unused_level0 = ^node_d[0 +: NumLanes*InWidth];
  assign valid_o = valid_l[Levels];
  assign tag_o   = tag_l[Levels*TagWidth +: TagWidth];
  assign sum_o   = node_q[SumOffset +: SumWidth];

endmodule
