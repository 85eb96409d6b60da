"""Masking: each kind of variable gets its typed placeholder; words stay words."""

from __future__ import annotations

import pytest

from aiops_copilot.parsing.masking import Masker, to_wildcards

CASES = [
    ("10.251.73.220:50010", "<IP>"),
    ("/10.10.34.11:3888", "<IP>"),
    ("[173.234.31.186]", "[<IP>]"),
    ("fe80::1ff:fe23:4567:890a", "<IP>"),
    ("38101a0b-2096-447d-96ea-a692162415ae", "<UUID>"),
    ("0x7fed806eb5d", "<HEX>"),
    ("1514038530000", "<NUM>"),
    ("-1.5", "<NUM>"),
    ("42%", "<NUM>"),
    ("250ms", "<DURATION>"),
    ("1.5s", "<DURATION>"),
    ("512MB", "<SIZE>"),
    ("/etc/httpd/conf/workers2.properties", "<PATH>"),
    ("https://example.com/a?b=1", "<URL>"),
    ("alice@example.com", "<EMAIL>"),
    ("2005-06-03", "<DATETIME>"),
    ("12:01:01", "<DATETIME>"),
    ("Jul", "<DATETIME>"),
    ("true", "<BOOL>"),
    ("uid=0", "uid=<NUM>"),
    ("rhost=218.188.2.4", "rhost=<IP>"),
    ("(HWID=1973)", "(HWID=<NUM>)"),
    ("blk_-6952295868487656571", "<ID>"),
    ("appattempt_1445144423722_0020_000001", "<ID>"),
    ("proxy.cse.cuhk.edu.hk:5070", "<HOST>"),
    ("terminating", "terminating"),
    (
        "org.apache.hadoop.mapreduce.v2.app.MRAppMaster:",
        "org.apache.hadoop.mapreduce.v2.app.MRAppMaster:",
    ),
    ("node-246", "<ID>"),
    ("R02-M1-N0-C:J12-U11", "<ID>"),
    ("SOCKS5", "SOCKS5"),
    ("jk2_init()", "jk2_init()"),
    ("dfs.DataNode$PacketResponder:", "dfs.DataNode$PacketResponder:"),
    ("Failed", "Failed"),
    ("-", "-"),
    ("", ""),
]


@pytest.mark.parametrize(("token", "expected"), CASES)
def test_mask_token(token: str, expected: str) -> None:
    assert Masker().mask_token(token) == expected


def test_mask_tokens_uses_cache_consistently() -> None:
    masker = Masker(cache_size=2)
    tokens = ["user", "42", "user", "10.0.0.1", "42"]
    assert masker.mask_tokens(tokens) == ["user", "<NUM>", "user", "<IP>", "<NUM>"]


def test_wildcards_for_scoring() -> None:
    assert to_wildcards("from <IP> port <NUM> uid=<NUM> <*>") == "from <*> port <*> uid=<*> <*>"
