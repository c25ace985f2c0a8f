#!/usr/bin/env bash
# The comparison of eval_exact_both_devices.sh must fail on a planted difference: RISTSIM is
# wrapped so that "--device cuda" runs on the CPU with Ristretto's range rule, not dynfixed8's
# no_saturation (other fractional lengths, other codes). Needs no GPU. Exit 0 when the
# comparison caught it.
#   eval_exact_both_devices_bad.sh RISTSIM OUT_DIR
set -u
ristsim=$1; out=$2
mkdir -p "$out"
fake=$out/ristsim_planted
cat >"$fake" <<EOS
#!/usr/bin/env bash
args=(); cuda=0
for a in "\$@"; do [[ \$a == cuda ]] && { a=cpu; cuda=1; }; args+=("\$a"); done
(( cuda )) && [[ \${args[0]} == eval && " \${args[*]} " == *" --arch "* ]] && args+=(--range-rule ristretto)
exec "$ristsim" "\${args[@]}"
EOS
chmod +x "$fake"
if RISTSIM_ARCHS=dynfixed8 "$(dirname "$0")/eval_exact_both_devices.sh" "$fake" "$out/run"; then
  echo "FAIL: the planted difference was not caught"; exit 1
fi
echo "PASS: the planted difference was caught"
