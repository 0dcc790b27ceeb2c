"""A service's own SQL database: migrated at start, checked for readiness, and sessions that
turn an unreachable database into `UNAVAILABLE` instead of a failure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, Row, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from makefx_contracts.errors import Unavailable
from makefx_sqldb.engine import WRITE

log = logging.getLogger(__name__)


class Database:
    """Extended by each store; `name` ("the database", "the usage ledger") speaks in its messages."""

    def __init__(self, engine: AsyncEngine, migrate: Callable[[AsyncEngine], Awaitable[int]], *, name: str) -> None:
        self.engine = engine
        self.name = name
        self._migrate = migrate
        self._migrated = False

    async def migrate(self) -> int:
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            await asyncio.to_thread(Path(url.database).parent.mkdir, parents=True, exist_ok=True)
        version = await self._migrate(self.engine)
        self._migrated = True
        log.info("%s at schema version %d", self.name, version)
        return version

    async def problem(self) -> str | None:
        """None when ready, else what is wrong (for `/readyz`)."""
        if not self._migrated:
            return f"{self.name} is not migrated yet"
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (DBAPIError, OSError, TimeoutError) as error:
            return f"{self.name} does not answer: {type(error).__name__}"
        return None

    async def close(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction; `write` takes SQLite's write lock at BEGIN."""
        async with (
            self._reachable(),
            AsyncSession(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            await session.connection(execution_options={WRITE: write})
            yield session

    async def read_row(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        """The first row of one read (None without one), its columns by name, without an ORM session.

        For the hottest reads: an ORM session around one SELECT cost 1.4 ms of CPU against
        0.85 ms for a plain connection (SQLite, measured; most of the rest is aiosqlite's
        thread hops).
        """
        async with self._reachable(), self.engine.connect() as connection:
            return (await connection.execute(statement, parameters)).first()

    @contextlib.asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        """An unreachable database becomes `UNAVAILABLE`, a bad statement stays the bug it is."""
        if not self._migrated:
            raise Unavailable(f"{self.name} is not ready yet: the service is starting")
        try:
            yield
        except DBAPIError as error:
            if not _is_unreachable(error):
                raise
            log.warning("%s unreachable: %s", self.name, error)
            raise Unavailable(f"{self.name} is unavailable, try again shortly") from None
        except (OSError, TimeoutError) as error:
            log.warning("%s unreachable: %s", self.name, error)
            raise Unavailable(f"{self.name} is unavailable, try again shortly") from None


def _is_unreachable(error: DBAPIError) -> bool:
    """Lost or refused connections and locked files: worth a retry, unlike a bad statement.

    A failure while connecting carries no statement; one on a live connection that died is
    flagged `connection_invalidated`.
    """
    return (
        isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated or error.statement is None
    )
