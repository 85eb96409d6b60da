"""Broker URLs: the forms ``aiops consume`` takes, and one clear line for anything else."""

from __future__ import annotations

import pytest

from aiops_copilot.stream.urls import parse_broker_url


@pytest.mark.parametrize(
    ("text", "broker", "hosts", "name"),
    [
        ("nats://127.0.0.1:4222/logs.app", "nats", ((("127.0.0.1", 4222)),), "logs.app"),
        ("nats://nats.internal/logs.>", "nats", (("nats.internal", 4222),), "logs.>"),
        ("redis://127.0.0.1:6379/app-logs", "redis", (("127.0.0.1", 6379),), "app-logs"),
        ("redis:///app-logs", "redis", (("127.0.0.1", 6379),), "app-logs"),
        ("rediss://cache:6380/app", "redis", (("cache", 6380),), "app"),
        ("redis://[::1]:6379/app", "redis", (("::1", 6379),), "app"),
        (
            "kafka://k1:9092,k2/app-logs",
            "kafka",
            (("k1", 9092), ("k2", 9092)),
            "app-logs",
        ),
    ],
)
def test_forms(text: str, broker: str, hosts: tuple[tuple[str, int], ...], name: str) -> None:
    url = parse_broker_url(text)
    assert (url.broker, url.hosts, url.name) == (broker, hosts, name)


def test_credentials_are_used_but_never_shown() -> None:
    url = parse_broker_url("redis://app:s3cret@cache:6379/logs?db=2")
    assert (url.username, url.password, url.options) == ("app", "s3cret", {"db": "2"})
    assert "s3cret" not in url.shown and url.shown == "redis://app@cache:6379/logs"
    assert "s3cret" in url.server and "s3cret" not in repr(url)


def test_nats_stream_option() -> None:
    assert parse_broker_url("nats://h/logs.*?stream=LOGS").options == {"stream": "LOGS"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("http://127.0.0.1/logs", "is not a broker URL"),
        ("amqp://127.0.0.1/logs", "is not a broker URL"),
        ("redis://127.0.0.1:6379", "names no stream"),
        ("nats://127.0.0.1:4222/", "names no subject"),
        ("kafka://k1:9092", "names no topic"),
        ("redis://127.0.0.1:99999/logs", "is not a port"),
        ("redis://a:1,b:2/logs", "only kafka:// takes several servers"),
        ("redis://h/logs?group=x", "unknown option 'group'"),
        ("redis://h/logs?db=two", "db must be a number"),
    ],
)
def test_bad_urls_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_broker_url(text)
    assert says in str(error.value) and "\n" not in str(error.value)
