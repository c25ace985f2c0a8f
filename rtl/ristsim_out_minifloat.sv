// ristsim_out_minifloat: the accumulator (AccWidth bits on the grid
// 2^-FracBits) converted to a minifloat output (E exponent and M mantissa
// bits), in sign-magnitude.
//
// Algorithm (docs/rtl.md): a leading-one detector finds the binade of |acc|
// (leading one at bit p: exponent p - F; normal iff p >= Pn = Emin + F); the
// magnitude is shifted to M + 1 bits; rem / k are the dropped bits; the
// rounding decision of rounding.h round_to_larger is taken on magnitudes (a
// tie goes to the neighbour whose magnitude code is even; without subnormals
// the gap between 0 and the smallest normal is one step); then the magnitude
// code is clamped (saturate) or replaced by SpecialMag (infinity or NaN,
// Special = 1, when the rounding can move away from zero).
// Every internal width is the range its signal takes, derived here from the
// parameters: the significand is M + 1 bits whatever AccWidth, the dropped-bit
// count and the threshold 2^(k-1) cover the whole accumulator and the
// subnormal shift, the magnitude code has at least E + M + 1 bits.
// The format constants Emin, MaxMag and SpecialMag come from the format
// (sim/numeric/format.h emin(), max_mag_code(); infinity or the fn NaN).
// Cost: a leading-one detector, a barrel shifter, a rounding incrementer and a
// comparator: O(AccWidth log AccWidth) area, O(log AccWidth) delay.
module ristsim_out_minifloat #(
  parameter int unsigned AccWidth   = 32,
  parameter int          FracBits   = 0,
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned MantBits   = 3,
  parameter int          Emin       = -6,
  parameter int unsigned MaxMag     = 127,   // largest finite magnitude code
  parameter int unsigned SpecialMag = 127,   // magnitude code of an overflow under Special
  parameter bit          Subnormals = 1'b1,
  parameter bit          KeepSign   = 1'b0,  // IEEE: -0 keeps its sign (else the sign of 0 is +)
  parameter bit          Special    = 1'b0,  // overflow: 0 saturate, 1 infinity / NaN
  parameter int unsigned Mode       = 0,     // ristsim_round_up's modes
  parameter int unsigned RandWidth  = 16
) (
  input  logic [AccWidth-1:0]         acc_i,
  input  logic [RandWidth-1:0]        rand_i,
  output logic [ExpBits+MantBits:0]   out_o,
  output logic                        sat_o
);

  // Bits of an unsigned number up to v (at least 1).
  function automatic int unsigned bits_for(input int unsigned v);
    int unsigned i;
    bits_for = 1;
    for (i = 1; i < 32; i = i + 1) if ((32'd1 << i) <= v) bits_for = i + 1;
  endfunction
  function automatic int max2(input int x, input int y);
    max2 = x > y ? x : y;
  endfunction

  localparam int unsigned A  = AccWidth;
  localparam int unsigned M  = MantBits;
  localparam int unsigned EM = ExpBits + MantBits;
  localparam int unsigned R  = RandWidth;
  localparam int AI = AccWidth;
  localparam int MI = MantBits;
  localparam int Pn = Emin + FracBits;  // msb position of the smallest normal
  localparam int Ss = Pn - MI;          // subnormal shift
  localparam int unsigned PW = bits_for(A - 1);  // msb in 0 .. A-1
  localparam int K0   = max2(AI - 1 - MI, 0);
  localparam int K1   = (Subnormals && Ss > K0) ? Ss : K0;
  localparam int KMax = (!Subnormals && Pn > K1) ? Pn : K1;  // dropped bits k in 0 .. KMax
  localparam int unsigned KW = bits_for(max2(max2(KMax, AI), R)) + 1;
  localparam int unsigned HW = max2(AI, KMax) + 1;           // 2^(k-1), compared with rem
  localparam int MaxField = AI - (Pn < 0 ? Pn : 0);
  localparam int unsigned MW = max2(bits_for(MaxField + 1) + M, EM) + 1;  // magnitude code
  localparam int Off = 1 - Pn;  // field = msb + Off

`ifndef SYNTHESIS
  initial begin : p_assert_params
    assert (ExpBits >= 1 && EM <= 31 && MaxMag < (1 << EM) && SpecialMag < (1 << EM))
      else $fatal(1, "ristsim_out_minifloat: format constants out of range");
    assert (AccWidth >= 2 && AccWidth <= 62)
      else $fatal(1, "ristsim_out_minifloat: AccWidth must be 2..62");
  end
`endif

  logic          neg;
  logic [A-1:0]  mag;
  logic [PW-1:0] msb;
  assign neg = acc_i[A-1];
  assign mag = neg ? -acc_i : acc_i;  // -2^(A-1) -> 2^(A-1) (unsigned)
  always_comb begin : p_leading_one
    msb = '0;
    for (int unsigned i = 0; i < A; i++) begin
      if (mag[i]) msb = PW'(i);
    end
  end

  logic normal;
  if (Pn <= 0) begin : g_all_normal
    assign normal = 1'b1;
  end else if (Pn > AI - 1) begin : g_none_normal
    assign normal = 1'b0;
  end else begin : g_normal_cmp
    assign normal = (msb >= PW'(Pn));
  end

  // Normal: the leading one moved to bit M (k = msb - M bits dropped).
  logic [A-1:0]  rem_norm;
  logic [KW-1:0] k_norm;
  logic [MW-1:0] lo_norm;
  if (M == 0) begin : g_norm_m0
    assign k_norm   = KW'(msb);
    assign rem_norm = mag & ~({A{1'b1}} << k_norm);
    assign lo_norm  = (MW'(msb) + MW'(Off)) << M;
  end else begin : g_norm_m
    logic [M:0] t_norm;
    if (MI > AI - 1) begin : g_wide_mant  // nothing is dropped
      localparam int unsigned SW = bits_for(M);
      assign t_norm   = (M+1)'(mag) << (SW'(M) - SW'(msb));
      assign k_norm   = '0;
      assign rem_norm = '0;
    end else begin : g_narrow_mant
      always_comb begin : p_normal
        if (msb >= PW'(M)) begin
          t_norm   = (M+1)'(mag >> (msb - PW'(M)));
          k_norm   = KW'(msb) - KW'(M);
          rem_norm = mag & ~({A{1'b1}} << k_norm);
        end else begin
          t_norm   = (M+1)'(mag << (PW'(M) - msb));
          k_norm   = '0;
          rem_norm = '0;
        end
      end
    end
    assign lo_norm = ((MW'(msb) + MW'(Off)) << M) | MW'(t_norm[M-1:0]);
    logic unused_t_norm;
    assign unused_t_norm = t_norm[M];  // the leading one
  end

  // Below the normal range.
  logic [A-1:0]  rem_low;
  logic [KW-1:0] k_low;
  logic [MW-1:0] lo_low;
  if (!Subnormals) begin : g_low_gap  // between 0 and the smallest normal 2^emin
    assign lo_low  = '0;
    assign rem_low = mag;
    assign k_low   = KW'(Pn > 0 ? Pn : 0);
  end else if (Ss >= AI) begin : g_low_all  // every value is below the quantum
    assign lo_low  = '0;
    assign rem_low = mag;
    assign k_low   = KW'(Ss);
  end else if (Ss > 0) begin : g_low_shr  // subnormal quantum 2^(emin - M): mag >> Ss
    if (A < MW) begin : g_cast_first
      assign lo_low = MW'(mag) >> Ss;
    end else begin : g_shift_first
      assign lo_low = MW'(mag >> Ss);
    end
    assign rem_low = mag & {{(AI-Ss){1'b0}}, {Ss{1'b1}}};
    assign k_low   = KW'(Ss);
  end else begin : g_low_shl  // mag < 2^Pn <= 2^M: the cast drops zeros only
    assign lo_low  = MW'(mag) << (-Ss);
    assign rem_low = '0;
    assign k_low   = '0;
  end

  logic [A-1:0]  rem;
  logic [KW-1:0] k;
  logic [MW-1:0] lo;
  logic          nz, up;
  assign rem = normal ? rem_norm : rem_low;
  assign k   = normal ? k_norm : k_low;
  assign lo  = normal ? lo_norm : lo_low;
  assign nz  = (rem != '0);

  // The rounding decision (rounding.h round_to_larger on magnitudes).
  if (Mode == 0 || Mode == 1) begin : g_nearest
    logic [HW-1:0] half;  // 2^(k-1), 0 when k = 0
    logic [HW-1:0] rem_w;
    logic          unused_rand;
    assign unused_rand = ^rand_i;
    assign half  = (k == '0) ? '0 : HW'(1) << (k - KW'(1));
    assign rem_w = HW'(rem);
    if (Mode == 0) begin : g_even
      logic lo_odd;  // the lower neighbour's code is odd (0 has an even code)
      assign lo_odd = Subnormals ? lo[0] : normal & lo[0];
      assign up = nz & ((rem_w > half) | ((rem_w == half) & lo_odd));
    end else begin : g_away
      assign up = nz & (rem_w >= half);
    end
  end else if (Mode == 2) begin : g_toward_zero
    logic unused_round;
    assign unused_round = ^{rand_i, nz, k};
    assign up = 1'b0;
  end else if (Mode == 3) begin : g_down
    logic unused_rand;
    assign unused_rand = ^{rand_i, k};
    assign up = nz & neg;
  end else if (Mode == 4) begin : g_up
    logic unused_rand;
    assign unused_rand = ^{rand_i, k};
    assign up = nz & ~neg;
  end else begin : g_stochastic
    // positive: f = first R bits of rem / 2^k; up iff f + rand >= 2^R.
    // negative: g = first R bits of 1 - rem / 2^k; the smaller magnitude iff g + rand >= 2^R.
    logic [R:0] one_r, f_pos, f_neg, rem_up, rem_dn, sum_pos, sum_neg;
    assign one_r = {1'b1, {R{1'b0}}};
    // rem >> (k - R) and (rem - 1) >> (k - R), R + 1 bits (k > R).
    if (A < R + 1) begin : g_narrow_acc
      assign rem_up = (R+1)'(rem) >> (k - KW'(R));
      assign rem_dn = ((R+1)'(rem) - (R+1)'(1)) >> (k - KW'(R));
    end else begin : g_wide_acc
      assign rem_up = (R+1)'(rem >> (k - KW'(R)));
      assign rem_dn = (R+1)'((rem - A'(1)) >> (k - KW'(R)));
    end
    always_comb begin : p_stochastic
      if (k <= KW'(R)) begin
        f_pos = (R+1)'(rem) << (KW'(R) - k);
        f_neg = one_r - f_pos;
      end else begin
        f_pos = rem_up;
        f_neg = one_r - (R+1)'(1) - rem_dn;
      end
    end
    assign sum_pos = f_pos + (R+1)'(rand_i);
    assign sum_neg = f_neg + (R+1)'(rand_i);
    assign up = nz & (neg ? ~(sum_neg >= one_r) : (sum_pos >= one_r));
  end

  logic [MW-1:0] mcode;
  if (Subnormals) begin : g_code_sub
    assign mcode = lo + MW'(up);
  end else begin : g_code_gap
    assign mcode = normal ? lo + MW'(up) : (up ? MW'(1) << M : '0);
  end

  // Overflow.
  logic          ovf;
  logic [EM-1:0] mfinal;
  assign ovf = (mcode > MW'(MaxMag));
  if (Special) begin : g_special
    logic away;  // the rounding can move away from zero
    if (Mode == 2) begin : g_away_never
      assign away = 1'b0;
    end else if (Mode == 3) begin : g_away_neg
      assign away = neg;
    end else if (Mode == 4) begin : g_away_pos
      assign away = ~neg;
    end else begin : g_away_always
      assign away = 1'b1;
    end
    assign mfinal = !ovf ? mcode[EM-1:0] : (away ? EM'(SpecialMag) : EM'(MaxMag));
  end else begin : g_saturate
    assign mfinal = ovf ? EM'(MaxMag) : mcode[EM-1:0];
  end
  logic unused_mcode;
  assign unused_mcode = ^mcode[MW-1:EM];

  logic zero;
  assign zero  = (mag == '0);
  assign out_o = zero ? '0 : {neg & (KeepSign | (mfinal != '0)), mfinal};
  assign sat_o = ~zero & ovf;

endmodule
