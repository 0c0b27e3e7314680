#!/usr/bin/env python3
"""Writes tools/cmake/idle_order.ld: the functions the agent runs from start-up to idle, in one
place at the front of the binary's code.

Why: the kernel maps a file's pages in 64 kB blocks around each page a process touches
(fault-around), so code that start-up and the idle loops touch, scattered over the binary, keeps
most of it resident. Clustered, it keeps about a third (SPEC section 8, idle RSS).

How: a release build without the order file, linked with a map, runs under callgrind from
start-up through one served /healthz and two idle seconds to SIGTERM; each function it ran is
looked up in the map for the input section that holds it. Section names are the compiler's
(function sections at link time, LTO's .lto_priv.N suffixes included), so after a change to the
code that runs at start-up, run this again: a name that no longer exists is skipped by the linker,
it does no harm, it only stops helping.

    tools/link_order.py            # needs valgrind (tools/bootstrap --bench)
"""
import bisect
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build", "link-order")
OUT = os.path.join(TOP, "tools", "cmake", "idle_order.ld")
# Sections that are not one function each: the default linker script places them already.
SHARED_SECTIONS = {".text", ".text.startup", ".text.unlikely", ".text.hot", ".text.exit"}


def build():
    mapfile = os.path.join(BUILD, "tracklight.map")
    subprocess.run(["cmake", "-S", TOP, "-B", BUILD, "-DCMAKE_BUILD_TYPE=MinSizeRel",
                    "-DTRACKLIGHT_LINK_ORDER=OFF", f"-DCMAKE_EXE_LINKER_FLAGS=-Wl,-Map,{mapfile}"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", str(os.cpu_count() or 2), "--target", "tracklight"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(BUILD, "tracklight"), mapfile


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_to_idle(binary, profile):
    """Start-up, one /healthz, two idle seconds, SIGTERM: what tools/bench measures."""
    state = tempfile.mkdtemp(prefix="tracklight-order-")
    port = free_port()
    agent = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={profile}",
                              binary, "--listen", f"127.0.0.1:{port}", "--state-dir", state],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or agent.poll() is not None:
                sys.exit("link_order: the agent did not answer under valgrind")
            time.sleep(0.2)
        time.sleep(2)
    finally:
        agent.terminate()
        agent.wait(timeout=60)
        shutil.rmtree(state, ignore_errors=True)


def functions_run(binary, profile):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", profile],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s*[\d,]+ \([^)]*\)\s+\?\?\?:(\S+) \[(.*)\]$", line)
        if m and m.group(2) == binary:
            names.add(re.sub(r"'\d+$", "", m.group(1)))  # callgrind marks recursion as name'2
    return names


def input_sections(mapfile):
    """(address, size, name) of each .text* input section the link placed."""
    sections, pending = [], None
    for line in open(mapfile):
        m = re.match(r"^ (\.text\S*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s", line)
        if m:
            sections.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1)))
            pending = None
            continue
        m = re.match(r"^ (\.text\S+)$", line)  # a long name puts the address on the next line
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s", line)
        if m and pending:
            sections.append((int(m.group(1), 16), int(m.group(2), 16), pending))
        pending = None
    return sorted(s for s in sections if s[0] and s[1])


def main():
    binary, mapfile = build()
    profile = os.path.join(BUILD, "callgrind.out")
    run_to_idle(binary, profile)
    names = functions_run(binary, profile)
    addresses = {}
    nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            addresses.setdefault(parts[2], int(parts[0], 16))
    sections = input_sections(mapfile)
    starts = [s[0] for s in sections]
    chosen = {}
    for name in names:
        at = addresses.get(name)
        if at is None:
            continue
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and sections[i][0] <= at < sections[i][0] + sections[i][1] and sections[i][2] not in SHARED_SECTIONS:
            chosen[sections[i][2]] = sections[i]
    if len(chosen) < 50:
        sys.exit(f"link_order: only {len(chosen)} start-up functions found; callgrind_annotate's output "
                 "may have changed: the list was not written")
    ordered = sorted(chosen.values())  # keep the build's own order within the cluster
    with open(OUT, "w") as f:
        f.write("/* Generated by tools/link_order.py: the code the agent runs from start-up to idle, placed\n"
                "   together before the rest (see that script for why). Names that no longer exist are\n"
                "   skipped by the linker. */\n")
        f.write("SECTIONS\n{\n  .text.idle :\n  {\n")
        for _, _, name in ordered:
            # LTO numbers its private copies (.lto_priv.0, .1 ...) in an order that moves with
            # unrelated changes: match any number.
            f.write(f"    *({re.sub(r'[.]lto_priv[.][0-9]+$', '.lto_priv.*', name)})\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")
    print(f"link_order: {len(names)} functions ran, {len(ordered)} sections, "
          f"{sum(s[1] for s in ordered)} bytes of code -> {os.path.relpath(OUT, TOP)}")


if __name__ == "__main__":
    main()
