"""argon2id hashing: verify, unknown accounts cost the same work, rehash on new parameters."""

from __future__ import annotations

from makefx_gateway.passwords import Passwords


def cheap() -> Passwords:
    return Passwords(time_cost=1, memory_cost_kib=8, parallelism=1)


async def test_a_hash_verifies_its_password_only() -> None:
    passwords = cheap()
    stored = await passwords.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify(stored, "correct horse")
    assert not await passwords.verify(stored, "wrong horse")


async def test_unknown_account_is_verified_against_a_dummy_hash_and_fails() -> None:
    assert not await cheap().verify(None, "anything")


async def test_a_corrupt_stored_hash_fails_verification_instead_of_raising() -> None:
    assert not await cheap().verify("not-a-hash", "anything")


async def test_hashes_made_with_other_parameters_need_a_rehash() -> None:
    old = await cheap().hash("correct horse")
    stronger = Passwords(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert stronger.needs_rehash(old)
    assert not cheap().needs_rehash(old)


async def test_production_parameters_hash_with_argon2id_defaults() -> None:
    stored = await Passwords(time_cost=3, memory_cost_kib=65536, parallelism=4).hash("correct horse")
    assert "$m=65536,t=3,p=4$" in stored
