"""Local dev/CI infrastructure: real Kafka (and friends) started without Docker."""
