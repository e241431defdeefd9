#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny stand-in for a PCCS (API v4), test-only.

Serves one collateral directory in the layout of tests/vectors/quotes/<v>/
(or what `sgx-quote collateral export` writes) on 127.0.0.1, the way a PCCS
does (Intel's PCS API v4): TCB info and QE identity documents as-is with
their URL-encoded issuer chains in the response headers, the PCK CRL (DER
with encoding=der, else PEM) for the CA the CRL belongs to, and the root CA
CRL as hex-encoded DER. Prints "PORT <n>" once listening; every request is
logged to stderr. GET /_requests answers how many collateral requests were
served so far (itself not counted), so tests can see what a cache saved.

Usage: pccs_server.py DIR [--v3-headers] [--tls CERT KEY]
  --tls CERT KEY   speak HTTPS with this PEM certificate (chain) and key
"""
import base64
import http.server
import json
import ssl
import subprocess
import sys
import threading
import urllib.parse


def read(d, name):
    with open(f"{d}/{name}", "rb") as f:
        return f.read()


def crl_ca_type(der):
    """'processor' or 'platform', from the CRL issuer's CN (openssl CLI)."""
    out = subprocess.run(["openssl", "crl", "-inform", "DER", "-noout", "-issuer"],
                         input=der, capture_output=True, check=True).stdout.decode()
    return "platform" if "Platform" in out else "processor"


def main():
    d = sys.argv[1]
    v3 = "--v3-headers" in sys.argv[2:]
    tls = None
    if "--tls" in sys.argv[2:]:
        i = sys.argv.index("--tls")
        tls = (sys.argv[i + 1], sys.argv[i + 2])
    served = [0]
    lock = threading.Lock()
    tcb_doc = read(d, "tcb_info.json")
    fmspc = json.loads(tcb_doc)["tcbInfo"]["fmspc"].upper()
    tee = "tdx" if json.loads(tcb_doc)["tcbInfo"].get("id") == "TDX" else "sgx"
    pck_crl = read(d, "pck_crl.der")
    ca = crl_ca_type(pck_crl)
    enc = lambda name: urllib.parse.quote(read(d, name).decode(), safe="")
    tcb_hdr = "SGX-TCB-Info-Issuer-Chain" if v3 else "TCB-Info-Issuer-Chain"

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, body, ctype, headers=()):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            p = u.path
            if p == "/_requests":
                with lock:
                    n = served[0]
                return self.reply(str(n).encode(), "text/plain")
            with lock:
                served[0] += 1
            if p == f"/{tee}/certification/v4/tcb" and q.get("fmspc", [""])[0].upper() == fmspc:
                return self.reply(tcb_doc, "application/json", [(tcb_hdr, enc("tcb_chain.pem"))])
            if p == f"/{tee}/certification/v4/qe/identity":
                return self.reply(read(d, "qe_identity.json"), "application/json",
                                  [("SGX-Enclave-Identity-Issuer-Chain", enc("qe_chain.pem"))])
            if p == "/sgx/certification/v4/pckcrl" and q.get("ca", [""])[0] == ca:
                if q.get("encoding", [""])[0] == "der":
                    body, ctype = pck_crl, "application/pkix-crl"
                else:
                    b64 = base64.encodebytes(pck_crl).decode()
                    body = f"-----BEGIN X509 CRL-----\n{b64}-----END X509 CRL-----\n".encode()
                    ctype = "application/x-pem-file"
                return self.reply(body, ctype,
                                  [("SGX-PCK-CRL-Issuer-Chain", enc("pck_crl_chain.pem"))])
            if p == "/sgx/certification/v4/rootcacrl":
                return self.reply(read(d, "root_ca_crl.der").hex().encode(), "text/plain")
            self.send_error(404, "not served by this test PCCS")

        def log_message(self, fmt, *args):
            sys.stderr.write("pccs_server: " + (fmt % args) + "\n")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
