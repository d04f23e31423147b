#!/usr/bin/env python3
"""Size breakdown of a wasm binary: sections, code bytes by crate and by function.

Usage: wasm_sizes.py FILE.wasm... [--top N] [--json OUT] [--match TEXT]...

Parses the binary format directly (no external tools): section headers, the import section
(to number functions), the code section's bodies, the "name" custom section's function names,
and the data section's segments. Rust symbol names (legacy `_ZN...E` and v0 `_R...`, or names
already demangled by wasm-ld) are attributed to a crate roughly:
  - "crate":  the leading path segment (e.g. core::ptr::drop_in_place<wgpu::Device> -> core);
  - "owner":  the first crate that is not core/alloc/std/compiler_builtins found anywhere in the
              name (-> wgpu in the example), which says whose generic code was instantiated.
"""
import json
import re
import sys
from collections import Counter, defaultdict

SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
                 6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
                 12: "datacount", 13: "tag"}
STD = {"core", "alloc", "std", "compiler_builtins", "hashbrown", "__rustc", "panic_unwind",
       "panic_abort", "std_detect", "rustc_demangle", "dlmalloc"}


def leb_u(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7F) << s; s += 7
        if x < 0x80:
            return r, i


def name_str(b, i):
    n, i = leb_u(b, i)
    return b[i:i + n].decode("utf-8", "replace"), i + n


def skip_limits(b, i):
    flags = b[i]; i += 1
    _, i = leb_u(b, i)
    if flags & 1:
        _, i = leb_u(b, i)
    return i


def parse(path):
    b = open(path, "rb").read()
    assert b[:4] == b"\0asm", "not a wasm file"
    i = 8
    sections = []          # (id, name, size)
    n_imported_funcs = 0
    bodies = []            # sizes of defined function bodies (incl. their size LEB)
    fnames = {}
    data_segments = []     # sizes of segment payloads
    while i < len(b):
        sid = b[i]; i += 1
        size, i = leb_u(b, i)
        start, end = i, i + size
        label = SECTION_NAMES.get(sid, f"id{sid}")
        if sid == 0:
            cname, j = name_str(b, start)
            label = f"custom:{cname}"
            if cname == "name":
                while j < end:
                    sub = b[j]; j += 1
                    ssz, j = leb_u(b, j)
                    if sub == 1:
                        k = j
                        cnt, k = leb_u(b, k)
                        for _ in range(cnt):
                            idx, k = leb_u(b, k)
                            nm, k = name_str(b, k)
                            fnames[idx] = nm
                    j += ssz
        elif sid == 2:
            j = start
            cnt, j = leb_u(b, j)
            for _ in range(cnt):
                _, j = name_str(b, j); _, j = name_str(b, j)
                kind = b[j]; j += 1
                if kind == 0:
                    _, j = leb_u(b, j); n_imported_funcs += 1
                elif kind == 1:
                    j += 1; j = skip_limits(b, j)
                elif kind == 2:
                    j = skip_limits(b, j)
                elif kind == 3:
                    j += 2
                elif kind == 4:
                    j += 1; _, j = leb_u(b, j)
        elif sid == 10:
            j = start
            cnt, j = leb_u(b, j)
            for _ in range(cnt):
                k = j
                sz, j = leb_u(b, j)
                j += sz
                bodies.append(j - k)
        elif sid == 11:
            j = start
            cnt, j = leb_u(b, j)
            for _ in range(cnt):
                flag, j = leb_u(b, j)
                if flag == 2:
                    _, j = leb_u(b, j)
                if flag in (0, 2):   # offset const expr: skip to `end` (0x0B)
                    while b[j] != 0x0B:
                        j += 1
                    j += 1
                n, j = leb_u(b, j)
                data_segments.append(n)
                j += n
        sections.append((sid, label, size))
        i = end
    return dict(size=len(b), sections=sections, n_imported_funcs=n_imported_funcs,
                bodies=bodies, fnames=fnames, data_segments=data_segments)


# ---------------------------------------------------------------- demangling (rough)
def legacy_segments(sym):
    """_ZN4core3ptr13drop_in_place17h..E -> ['core','ptr','drop_in_place']"""
    m = re.match(r"_?_ZN", sym)
    if not m:
        return None
    i, segs = m.end(), []
    while i < len(sym) and sym[i].isdigit():
        j = i
        while sym[j].isdigit():
            j += 1
        n = int(sym[i:j])
        segs.append(sym[j:j + n]); i = j + n
    if segs and re.fullmatch(r"h[0-9a-f]{16}", segs[-1]):
        segs.pop()
    return segs


def legacy_unescape(s):
    for a, c in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$BP$", "*"),
                 ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"), ("$u5b$", "["), ("$u5d$", "]"),
                 ("$u27$", "'"), ("$u3b$", ";"), ("$u21$", "!"), ("$u22$", '"'), ("..", "::")):
        s = s.replace(a, c)
    return s


V0_CRATE = re.compile(r"C(?:s[0-9a-zA-Z]*_)?(u?)(\d+)")


def v0_crates(sym):
    """Crate names in a v0 symbol, in order (rough: every `C<disamb>?<len><ident>`)."""
    out, i = [], 0
    body = sym[2:] if sym.startswith("_R") else sym
    for m in V0_CRATE.finditer(body):
        n = int(m.group(2))
        # digits after the length belong to the identifier only if it starts with '_' (v0 rule)
        start = m.end()
        name = body[start:start + n]
        if name.startswith("_"):
            name = name[1:]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or "-"):
            out.append(name)
    return out


def _known_crates():
    import os
    out = set(STD)
    for lock in (os.environ.get("CARGO_LOCK", "/work/main/Cargo.lock"),):
        try:
            out |= {n.replace("-", "_") for n in re.findall(r'^name = "([^"]+)"', open(lock).read(), re.M)}
        except OSError:
            pass
    return out


KNOWN_CRATES = _known_crates()
PATH_CRATE = re.compile(r"(?<![A-Za-z0-9_:])([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::")


def demangle(sym):
    """Returns (readable name, leading crate, owner crate)."""
    if sym.startswith("_R") and not sym.startswith("_Rust"):
        crates = v0_crates(sym)
        lead = crates[0] if crates else "?"
        owner = next((c for c in crates if c not in STD), lead)
        return sym, lead, owner
    segs = legacy_segments(sym)
    if segs is not None:
        txt = legacy_unescape("::".join(segs))
    else:
        txt = sym
    txt_nohash = re.sub(r"(::h[0-9a-f]{16})?(\.llvm\.\d+)?$", "", txt)
    txt_nohash = re.sub(r"\[[0-9a-f]{8,16}\]::", "::", txt_nohash)   # v0 crate disambiguators
    # leading crate: strip leading '<' / '&' / 'impl' forms
    t = txt_nohash.lstrip("_<&*")
    t = re.sub(r"^(mut |const |dyn )+", "", t)
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", t)
    if m:
        lead = m.group(1)
    elif "::" not in t:
        lead = "<no-path:" + (t.split("(")[0][:30] if t else "") + ">"
        # C/JS-ish symbols: wasm-bindgen glue, dlmalloc, libm, etc.
        if t.startswith("__wbg") or t.startswith("__wbindgen"):
            lead = "wasm_bindgen(glue)"
        elif re.match(r"(mem|str)[a-z]+$|__.*", t):
            lead = "<compiler_builtins/libc>"
        else:
            lead = "<no-path>"
    else:
        lead = "?"
    crates = [c for c in PATH_CRATE.findall(txt_nohash) if c in KNOWN_CRATES]
    if lead == "?" and crates:      # `<T as some_crate::Trait>::f`: the trait's crate
        lead = crates[0]
    owner = next((c for c in crates if c not in STD), lead)
    return txt_nohash, lead, owner


def report(path, top=30, js=None, matches=()):
    r = parse(path)
    print(f"== {path}  ({r['size']:,} bytes)")
    print(f"{'section':32s} {'bytes':>12s} {'%':>6s}")
    for sid, label, size in r["sections"]:
        print(f"{label:32s} {size:12,d} {100 * size / r['size']:6.1f}")
    bodies = r["bodies"]
    print(f"functions: {len(bodies):,} defined, {r['n_imported_funcs']:,} imported; "
          f"code bodies {sum(bodies):,} bytes")
    ds = r["data_segments"]
    print(f"data: {len(ds)} segments, {sum(ds):,} payload bytes")
    if not r["fnames"]:
        print("NO name section: function names unavailable; use a build with names.")
        return r
    base = r["n_imported_funcs"]
    by_lead, by_owner = Counter(), Counter()
    cnt_lead, cnt_owner = Counter(), Counter()
    funcs = []
    for k, sz in enumerate(bodies):
        nm = r["fnames"].get(base + k, f"<fn {base + k}>")
        txt, lead, owner = demangle(nm)
        by_lead[lead] += sz; cnt_lead[lead] += 1
        by_owner[owner] += sz; cnt_owner[owner] += 1
        funcs.append((sz, txt, lead, owner))
    total = sum(bodies)
    for title, c, n in (("leading crate", by_lead, cnt_lead),
                        ("owner crate (first non-std crate in name)", by_owner, cnt_owner)):
        print(f"-- top {top} by {title}")
        for name, sz in c.most_common(top):
            print(f"  {name:36s} {sz:12,d} {100 * sz / total:5.1f}%  {n[name]:7,d} fns")
    print(f"-- top {top} functions")
    funcs.sort(reverse=True)
    for sz, txt, lead, owner in funcs[:top]:
        print(f"  {sz:10,d}  [{owner}] {txt[:150]}")
    # generic-instantiation groups: same name minus hash and generics
    groups = Counter()
    gcount = Counter()
    for sz, txt, lead, owner in funcs:
        key = re.sub(r"<[^<>]*>", "", txt)
        while re.search(r"<[^<>]*>", key):
            key = re.sub(r"<[^<>]*>", "", key)
        groups[key] += sz; gcount[key] += 1
    print(f"-- top {top} function groups (generics stripped: monomorphisation fan-out)")
    for key, sz in groups.most_common(top):
        print(f"  {sz:10,d} {gcount[key]:6,d}x  {key[:140]}")
    for m in matches:
        hit = [sz for sz, txt, _, _ in funcs if m in txt]
        print(f"-- functions whose name contains {m!r}: {sum(hit):,} bytes ({100 * sum(hit) / total:.1f}% of code), {len(hit):,} fns")
    if js:
        json.dump(dict(file=path, size=r["size"], sections=r["sections"],
                       by_lead=by_lead.most_common(), by_owner=by_owner.most_common(),
                       top_functions=[f[:2] for f in funcs[:500]]), open(js, "w"), indent=1)
    return r


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", metavar="FILE.wasm")
    ap.add_argument("--top", type=int, default=30, help="rows per table (default 30)")
    ap.add_argument("--json", metavar="OUT", help="also write the tables as JSON")
    ap.add_argument("--match", action="append", default=[], metavar="TEXT",
                    help="also print the code bytes of every function whose name contains TEXT (repeatable)")
    a = ap.parse_args()
    for p in a.files:
        report(p, a.top, a.json, a.match)
        print()
