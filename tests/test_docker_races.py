"""Races with other processes on the same Docker daemon (no daemon needed: a fake client)."""

from __future__ import annotations

import docker.errors

from harness.docker_sandbox import LABEL, OWNER_LABEL, prune_stale


class _Api:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def containers(self, all: bool = False, filters: dict | None = None) -> list[dict]:  # noqa: A002 - docker's name
        assert all and filters == {"label": LABEL}
        return [{"Id": "gone", "Labels": {LABEL: "1", OWNER_LABEL: "999999999"}},
                {"Id": "stale", "Labels": {LABEL: "1", OWNER_LABEL: "999999998"}},
                {"Id": "mine", "Labels": {LABEL: "1", OWNER_LABEL: "1"}}]

    def remove_container(self, cid: str, force: bool = False) -> None:
        if cid == "gone":  # another process removed it after the list was read
            raise docker.errors.NotFound(f"No such container: {cid}")
        self.removed.append(cid)


class _Containers:
    def list(self, **_: object) -> list:
        # What docker's high-level list does when a listed container disappears before it is inspected.
        raise docker.errors.NotFound("No such container: gone")


class _Client:
    def __init__(self) -> None:
        self.api = _Api()
        self.containers = _Containers()


def test_prune_stale_survives_a_container_removed_by_another_process():
    client = _Client()
    assert prune_stale(client) == 1
    assert client.api.removed == ["stale"]  # pid 1 (alive) is kept; the vanished one is skipped
