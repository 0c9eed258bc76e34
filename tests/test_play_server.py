"""`mlpfit play` on the command line: refused options are one line and exit code 2."""

from __future__ import annotations

import socket


def test_a_port_out_of_range_is_refused(cli):
    result = cli("play", "--port", "70000", "--no-browser")
    assert result.code == 2 and "--port must be between 0 and 65535, got 70000" in result.err


def test_a_busy_port_is_one_line_not_a_traceback(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("play", "--port", str(port), "--no-browser")
    assert result.code == 2
    assert f"port {port} on 127.0.0.1 is in use: choose another --port" in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_an_unknown_host_is_refused(cli):
    result = cli("play", "--host", "no-such-host.invalid", "--port", "0", "--no-browser")
    assert result.code == 2 and "cannot listen on no-such-host.invalid:0" in result.err
