#!/usr/bin/env python3
"""Trunk post-build hook: pins the inline start-up scripts that Trunk writes into index.html in the
Content-Security-Policy, by hash, so the policy can forbid every other inline script.

index.html's CSP contains the placeholder 'trunk-inline-scripts'; it is replaced by one
'sha256-…' source per inline <script> of the built page."""
import base64, hashlib, os, re, sys

path = os.path.join(os.environ.get("TRUNK_STAGING_DIR", sys.argv[1] if len(sys.argv) > 1 else "dist"), "index.html")
html = open(path, encoding="utf-8").read()
scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
hashes = " ".join(
    "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'" for s in scripts
)
if "'trunk-inline-scripts'" not in html:
    sys.exit(f"{path}: no 'trunk-inline-scripts' placeholder in the Content-Security-Policy")
open(path, "w", encoding="utf-8").write(html.replace("'trunk-inline-scripts'", hashes))
print(f"csp_hashes: pinned {len(scripts)} inline script(s) in {path}")
