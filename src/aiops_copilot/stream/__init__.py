"""Streaming ingestion from a broker: ``aiops consume`` (NATS JetStream, Redis Streams, Kafka).

Consumers of one group share a stream's messages, one template state (``shared_miner``) and
one store; each message is acknowledged only after the window holding its records is
stored, and a ledger of consumed messages, written in the same transaction, keeps a
redelivered message from being counted twice. ``docs/stream.md`` explains the guarantees.
"""
