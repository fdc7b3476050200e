"""The course's fault-injecting HTTP service: in-process on the virtual clock, or live on 127.0.0.1."""

from coursekit.service.app import BASE_URL, Record, Service
from coursekit.service.faults import Faults, Latency, RateLimit

__all__ = ["BASE_URL", "Faults", "Latency", "RateLimit", "Record", "Service"]
