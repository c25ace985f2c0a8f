#!/usr/bin/env python3
"""Make PyPI's Linux torch wheel importable on a machine without CUDA, CPU only.

PyPI has no CPU-only torch for Linux x86_64: its wheel links libtorch_cuda.so
against the NVIDIA libraries (cuDNN, cuBLAS, NCCL, ... several GB as
nvidia-* packages). scripts/bench_functional.sh installs the wheel with
--no-deps and runs this script, which writes, next to torch's own libraries
(torch/lib, first on their RPATH), an empty stand-in for each NVIDIA library
they name: a shared object with the same soname and symbol versions that
defines every symbol torch takes from it as a function returning 0 (or a
zeroed object). Nothing CPU-side calls them (CUDA's kernel registration at load
time receives null handles and no device is ever used); torch.cuda.is_available()
must not be relied on. The benchmark runs torch on the CPU only.

Usage: torch_cpu_stubs.py TORCH_LIB_DIR   (prints what it made; idempotent)
Needs readelf (binutils) and cc.
"""
import os
import re
import subprocess
import sys
import tempfile

NVIDIA = re.compile(r"^lib(cu|nv|nccl|cufile)")


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        sys.exit("torch_cpu_stubs: %s failed:\n%s" % (args[0], r.stderr[-2000:]))
    return r.stdout


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", sh("readelf", "-dW", path))


def dynsyms(path):
    """(name, version or None, undefined?, type, bind) per dynamic symbol."""
    out = []
    for line in sh("readelf", "--dyn-syms", "-W", path).splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or not f[0][:-1].isdigit():
            continue
        typ, bind, ndx, name = f[3], f[4], f[6], f[7]
        ver = None
        if "@" in name:
            name, ver = name.split("@", 1)
            ver = ver.lstrip("@")
        out.append((name, ver, ndx == "UND", typ, bind))
    return out


def version_files(path):
    """version name -> file (soname) from the version-needs section."""
    m, cur = {}, None
    for line in sh("readelf", "-VW", path).splitlines():
        fm = re.search(r"File: (\S+)", line)
        if fm:
            cur = fm.group(1)
            continue
        nm = re.search(r"Name: (\S+)\s+Flags", line)
        if nm and cur:
            m[nm.group(1)] = cur
    return m


def main():
    lib = sys.argv[1]
    torch_dir = os.path.dirname(lib)
    objs = [os.path.join(lib, f) for f in sorted(os.listdir(lib)) if ".so" in f and not f.startswith("stub-")]
    objs += [os.path.join(torch_dir, f) for f in os.listdir(torch_dir) if f.endswith(".so")]
    own = set(os.listdir(lib))
    missing = sorted({n for o in objs for n in needed(o) if NVIDIA.match(n) and n not in own})
    # libraries we wrote earlier are ours to rewrite
    stamp = os.path.join(lib, "STUBS")
    ours = set(open(stamp).read().split()) if os.path.exists(stamp) else set()
    missing = sorted(set(missing) | ours)
    if not missing:
        print("torch_cpu_stubs: nothing to do")
        return
    defined, undef = set(), {}
    for o in objs:
        if os.path.basename(o) in ours:
            continue
        vf = version_files(o)
        for name, ver, und, typ, bind in dynsyms(o):
            if not und:
                defined.add(name)
                continue
            if bind == "WEAK" or not name:
                continue
            soname = vf.get(ver) if ver else None
            if ver and soname not in missing:
                continue  # glibc, libstdc++, torch's own
            undef.setdefault((name, ver, soname), typ)
    # symbols without a version that nothing defines: give them to the first stub
    per = {s: [] for s in missing}
    for (name, ver, soname), typ in undef.items():
        if soname is None:
            if name in defined:
                continue
            soname = missing[0]
        per[soname].append((name, ver, typ))
    # system libraries torch uses (libc, libstdc++, libgomp ...) define the rest
    sysdef = set()
    for o in objs:
        for line in sh("ldd", o).splitlines():
            m = re.search(r"=> (/\S+)", line)
            if m and not NVIDIA.match(os.path.basename(m.group(1))) and "/torch/" not in m.group(1):
                sysdef.add(m.group(1))
    sysnames = set()
    for p in sysdef:
        sysnames.update(n for n, v, u, t, b in dynsyms(p) if not u)
    with tempfile.TemporaryDirectory() as tmp:
        for soname in missing:
            syms = [(n, v, t) for n, v, t in per[soname] if v or n not in sysnames]
            versions = sorted({v for n, v, t in syms if v}) or [soname]
            asm = [".text"]
            for n, v, t in sorted(set(syms)):
                q = '"%s"' % n
                if t == "OBJECT":
                    asm += [".data", ".globl " + q, ".type %s,@object" % q, ".size %s,256" % q,
                            ".balign 16", q + ":", ".zero 256", ".text"]
                else:
                    asm += [".globl " + q, ".type %s,@function" % q, q + ":", "xor %eax,%eax", "ret"]
            s = os.path.join(tmp, soname + ".s")
            open(s, "w").write("\n".join(asm) + "\n")
            vs = os.path.join(tmp, soname + ".map")
            with open(vs, "w") as f:
                # unversioned references bind to the first version (the default)
                for i, v in enumerate(versions):
                    names = sorted({n for n, vv, t in syms if vv == v or (i == 0 and not vv)})
                    f.write("%s {\n" % v)
                    if names:
                        f.write("  global:\n" + "".join('    "%s";\n' % n for n in names))
                    f.write("};\n")
            sh("cc", "-shared", "-nostdlib", "-o", os.path.join(lib, soname), s,
               "-Wl,-soname," + soname, "-Wl,--version-script=" + vs)
            print("torch_cpu_stubs: %s (%d symbols)" % (soname, len(set(syms))))
    open(stamp, "w").write("\n".join(missing) + "\n")


if __name__ == "__main__":
    main()
