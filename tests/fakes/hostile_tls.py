#!/usr/bin/env python3
"""A hostile server for tests: it reads one HTTP request (a GET, or a proxy's CONNECT), then
answers with an answer that never ends or never fits, as a black-box probe did to the agent.

    hostile_tls.py --mode MODE [--cert C --key K] [--plain]

Without --plain it speaks TLS (Python's ssl) with the given certificate, as a tracker would;
with --plain it is a plain TCP server, as a web proxy answering CONNECT would. Prints
"listening PORT" when ready. Modes:

    endless-headers      HTTP/1.1 200 OK, then "X-A: b" header lines without end
    endless-header-line  HTTP/1.1 200 OK, then one header line without end
    endless-status       a status line without end
    many-headers         20,000 header lines, then a complete small answer
    endless-continue     "HTTP/1.1 100 Continue" interim answers without end
    endless-chunk-line   a chunked answer whose first chunk-size line never ends
    drip                 valid header lines, one byte every 100 ms, without end

Each connection is served in its own thread; a write to a client that went away ends it.
"""
import argparse
import socket
import ssl
import threading
import time

BLOCK = 64 * 1024


def repeat(piece):
    return (piece * (BLOCK // len(piece) + 1))[:BLOCK - BLOCK % len(piece)]


def stream_forever(conn, head, piece):
    conn.sendall(head)
    data = repeat(piece)
    while True:
        conn.sendall(data)


def answer(conn, mode):
    if mode == "endless-headers":
        stream_forever(conn, b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n")
    elif mode == "endless-header-line":
        stream_forever(conn, b"HTTP/1.1 200 OK\r\nX-A: ", b"b")
    elif mode == "endless-status":
        stream_forever(conn, b"HTTP/1.1 200 ", b"O")
    elif mode == "endless-continue":
        stream_forever(conn, b"", b"HTTP/1.1 100 Continue\r\n\r\n")
    elif mode == "endless-chunk-line":
        stream_forever(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", b"1")
    elif mode == "many-headers":
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-N%d: v\r\n" % i for i in range(20000)) +
                     b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        time.sleep(30)
    elif mode == "drip":
        data = b"HTTP/1.1 200 OK\r\n" + b"X-Drip: b\r\n" * 10000
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(0.1)


def serve(raw, tls, mode):
    try:
        conn = tls.wrap_socket(raw, server_side=True) if tls else raw
        conn.settimeout(60)
        request = b""
        while b"\r\n\r\n" not in request:
            more = conn.recv(4096)
            if not more:
                return
            request += more
        answer(conn, mode)
    except (OSError, ssl.SSLError):
        pass  # the client gave up: that is what the tests want
    finally:
        raw.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true")
    args = ap.parse_args()
    tls = None
    if not args.plain:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print("listening", listener.getsockname()[1], flush=True)
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve, args=(raw, tls, args.mode), daemon=True).start()


if __name__ == "__main__":
    main()
