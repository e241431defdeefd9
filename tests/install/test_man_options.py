#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The man pages must keep up with --help, both ways.

Every long option that `sgx-quote-helperd --help` and `sgx-quote [COMMAND
[SUBCOMMAND]] --help` print must appear in the scdoc source of that program's
man page (including mode variants that a --help points to, such as
`sgx-quote get --tdx --help` and `sgx-quote bench quote --tdx [OPTIONS]`;
every command and subcommand the top-level --help lists, e.g. `tdx report`,
is followed), every daemon option (but --config, --help, --version) must be a key
in sgx-quote-helperd.conf(5), and every option a page documents must exist in
some --help of its program (no stale options). Every --help must exit 0, so
a renamed command or mode flag cannot pass as an error message. TAP output.
Usage: test_man_options.py DAEMON SGX_QUOTE MAN_SOURCE_DIR
"""
import os
import re
import subprocess
import sys

DAEMON, CLI, MAN = sys.argv[1:4]
OPT = re.compile(r"--[a-z][a-z0-9-]*[a-z0-9]")
# "sgx-quote get --tdx --help", "sgx-quote bench quote --tdx [OPTIONS]": a mode
# flag with its own --help text.
MODE = re.compile(r"sgx-quote ([a-z][a-z-]*(?: [a-z][a-z-]*)?) (--[a-z][a-z0-9-]*) "
                  r"(?:--help|\[OPTIONS\])")
HELP_FAILED = []


def help_text(*argv):
    r = subprocess.run(list(argv) + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    if r.returncode != 0:
        HELP_FAILED.append(" ".join([os.path.basename(argv[0])] + list(argv[1:])) +
                           f" --help (exit {r.returncode})")
    return r.stdout.decode()


def cli_helps():
    """{"sgx-quote get": text, ...} for every command and subcommand."""
    top = help_text(CLI)
    helps = {"sgx-quote": top}
    block = top.split("commands:", 1)[1].split("\n\n", 1)[0]
    for cmd in re.findall(r"^  ([a-z][a-z-]*) ", block, re.M):
        text = help_text(CLI, cmd)
        helps[f"sgx-quote {cmd}"] = text
        subs = set(re.findall(rf"sgx-quote {cmd} ([a-z][a-z-]*)\b", text))
        if "SUBCOMMAND" in text:
            subs |= set(re.findall(r"^  ([a-z][a-z-]*)  ", text, re.M))
        for sub in sorted(subs):
            helps[f"sgx-quote {cmd} {sub}"] = help_text(CLI, cmd, sub)
    for text in list(helps.values()):
        for words, flag in MODE.findall(text):
            where = f"sgx-quote {words} {flag}"
            if flag != "--help" and where not in helps:
                helps[where] = help_text(CLI, *words.split(), flag)
    return helps


def source(name):
    with open(os.path.join(MAN, name), encoding="utf-8") as f:
        return f.read()


def documented(page_text):
    # scdoc marks options as *--name*; also accept them inside other markup.
    return set(OPT.findall(page_text.replace("\\_", "_")))


def main():
    results = []

    daemon_help = help_text(DAEMON)
    daemon_opts = set(OPT.findall(daemon_help))
    page8 = source("sgx-quote-helperd.8.scd")
    page5 = source("sgx-quote-helperd.conf.5.scd")
    missing = sorted(daemon_opts - documented(page8))
    results.append(("every sgx-quote-helperd --help option is in sgx-quote-helperd.8.scd", missing))
    keys = set(re.findall(r"^\|\s+([a-z][a-z0-9-]*)\s*$", page5, re.M))
    want = {o[2:] for o in daemon_opts} - {"config", "help", "version"}
    results.append(("every daemon setting is a key in sgx-quote-helperd.conf.5.scd",
                    sorted(want - keys)))
    results.append(("sgx-quote-helperd.conf.5.scd names no unknown setting", sorted(keys - want)))
    results.append(("sgx-quote-helperd.8.scd documents no option --help lacks",
                    sorted(documented(page8) - daemon_opts)))

    helps = cli_helps()
    page1 = source("sgx-quote.1.scd")
    doc1 = documented(page1)
    all_cli = set()
    for where, text in helps.items():
        opts = set(OPT.findall(text))
        all_cli |= opts
        missing = sorted(opts - doc1)
        results.append((f"every `{where} --help` option is in sgx-quote.1.scd", missing))
        if where.count(" ") >= 1:
            cmd = where.split(" ", 1)[1]
            results.append((f"sgx-quote.1.scd mentions the command `{cmd}`",
                            [] if re.search(rf"\*(sgx-quote )?{re.escape(cmd)}\b", page1) else [cmd]))
    results.append(("sgx-quote.1.scd documents no option any --help lacks",
                     sorted(doc1 - all_cli)))
    results.append((f"every --help exits 0 ({len(helps) + 1} texts read)", HELP_FAILED))

    print(f"1..{len(results)}")
    failed = 0
    for i, (name, missing) in enumerate(results, 1):
        if missing:
            failed += 1
            print(f"not ok {i} - {name}: {', '.join(missing)} (update docs/man/*.scd)")
        else:
            print(f"ok {i} - {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
