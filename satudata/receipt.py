"""``satudata receipt``: check a submission receipt offline, and the platform's receipt key.
The key lives in ``.satudata/receipt-key.pem`` (mode 600) for ``make up``, or
where ``SATUDATA_RECEIPT_KEY_FILE`` / ``SATUDATA_RECEIPT_KEY`` say; never in the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer

from shared import receipts

app = typer.Typer(help="Signed submission receipts: verify one, rotate the signing key.",
                  no_args_is_help=True)

KEY_FILE = "receipt-key.pem"
RETIRED_FILE = "receipt-keys-retired.json"
PUBLIC_FILE = "receipt-keys.json"


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    tmp.replace(path)


def ensure_key(state_dir: Path) -> dict[str, str]:
    """The env that gives ingest its signing key: the operator's, or one generated once
    under ``state_dir``; the public keys document is written beside it for offline checks."""
    if os.environ.get("SATUDATA_RECEIPT_KEY") or os.environ.get("SATUDATA_RECEIPT_KEY_FILE"):
        return {}
    path = state_dir / KEY_FILE
    if not path.exists():
        _write_private(path, receipts.generate_pem())
    _write_public(state_dir)
    return {"SATUDATA_RECEIPT_KEY_FILE": str(path),
            "SATUDATA_RECEIPT_RETIRED_KEYS_FILE": str(state_dir / RETIRED_FILE)}


def _retired(state_dir: Path) -> list[dict]:
    path = state_dir / RETIRED_FILE
    return json.loads(path.read_text())["keys"] if path.exists() else []


def _write_public(state_dir: Path) -> dict:
    signer = receipts.Signer(receipts.load_private((state_dir / KEY_FILE).read_bytes()),
                             _retired(state_dir))
    document = signer.keys_document()
    (state_dir / PUBLIC_FILE).write_text(json.dumps(document, indent=2) + "\n")
    return document


def _load_keys(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        return httpx.get(source, timeout=10).raise_for_status().json()
    return json.loads(Path(source).read_text())


@app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="the receipt as downloaded (JSON)")],
    keys: Annotated[str, typer.Option(help="the public keys: a saved "
                                      "satudata-keys.json, or its URL "
                                      "(https://<portal>/.well-known/satudata-keys.json)")] = "",
) -> None:
    """Check a receipt's Ed25519 signature offline against the platform's public keys.
    Exits 0 when valid, 1 when not (any changed byte makes it invalid)."""
    from satudata.platform import home

    source = keys or str(home() / PUBLIC_FILE)
    try:
        document = _load_keys(source)
    except (OSError, ValueError, httpx.HTTPError) as exc:
        typer.echo(f"satudata | cannot read the public keys from {source}: {exc}", err=True)
        raise typer.Exit(2) from None
    ok, reason, body = receipts.verify(file.read_bytes(), receipts.public_keys(document))
    typer.echo(f"satudata | {'VALID' if ok else 'INVALID'}: {reason}")
    if ok and body:
        typer.echo(f"satudata | submission {body.get('submission_id')} of "
                   f"{body.get('publisher_id')}, {body.get('status')}, "
                   f"rows {body.get('rows', {}).get('count')}: "
                   + ", ".join(f"{k} {v}" for k, v in body.get("counts", {}).items() if v))
    raise typer.Exit(0 if ok else 1)


@app.command("rotate-key")
def rotate_key() -> None:
    """Make a new signing key under .satudata/; the old public key stays listed as retired
    (receipts already issued still verify). Restart ingest to sign with the new key."""
    from satudata.platform import home

    state = home()
    path = state / KEY_FILE
    if path.exists():
        old = receipts.load_private(path.read_bytes()).public_key()
        retired = [k for k in _retired(state) if k["kid"] != receipts.key_id(old)]
        retired.append(receipts.jwk(old, status="retired"))
        (state / RETIRED_FILE).write_text(json.dumps({"keys": retired}, indent=2) + "\n")
    _write_private(path, receipts.generate_pem())
    document = _write_public(state)
    typer.echo(f"satudata | new receipt key {document['keys'][0]['kid']}; "
               f"{len(document['keys']) - 1} retired key(s) still listed")
