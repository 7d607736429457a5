"""Timeliness settings, read from the environment with the registry's prefix (``REGISTRY_``).

A class of its own so the topic brings its settings along without editing the registry's;
nothing is built at import time.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TimelinessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    public_base_url: str = Field("http://127.0.0.1:8000", description="the portal's address, "
                                 "for the links in reminders")
    reminder_days_before: str = Field("7,1", description="days before a due date that a "
                                      "reminder goes out, comma-separated")
    reminder_interval: float = Field(300.0, description="seconds between reminder scans; 0 "
                                     "turns the scan off (POST /v1/reminders/run still works)")
    reminder_webhook_url: str = Field("", description="where reminders are POSTed (empty: off)")
    reminder_webhook_secret: str = Field("", repr=False, description="Standard Webhooks "
                                         "secret, whsec_<base64>")
    smtp_host: str = Field("", description="SMTP server for reminder e-mail (empty: off)")
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = Field("", repr=False)
    smtp_starttls: bool = False
    smtp_from: str = "satudata@kutaitimurkab.go.id"
    delivery_interval: float = Field(5.0, description="seconds between delivery attempts scans")
    delivery_max_attempts: int = Field(8, description="attempts per delivery before it is "
                                       "marked failed (backoff 30 s, doubling)")
    delivery_timeout: float = Field(10.0, description="seconds per webhook or SMTP call")

    @property
    def days_before(self) -> list[int]:
        return sorted({int(d) for d in self.reminder_days_before.split(",") if d.strip()},
                      reverse=True)
