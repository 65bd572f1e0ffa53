"""The PostgreSQL store's statements (private to :mod:`axolotl.store.postgres`).

Every table is keyed by ``owner`` first (see :mod:`axolotl.store.postgres._migrations`),
so every statement takes the owner as its first parameter. :data:`SQL` is what
the shared :class:`~axolotl.store._sql_store.SQLStore` methods run; the rest
are the store's own: provisioning and the hot session and sender-key paths.
"""

from __future__ import annotations

from axolotl.store._sql_store import Statements

__all__ = [
    "SQL",
    "SQL_GET_LOCAL",
    "SQL_GET_SENDER_KEY",
    "SQL_GET_SESSION",
    "SQL_PUT_SENDER_KEY",
    "SQL_PUT_SESSION",
    "SQL_SET_LOCAL",
]

SQL_GET_LOCAL = (
    "SELECT identity_key_pair, registration_id FROM axolotl_local_identity WHERE owner = %s"
)
SQL_SET_LOCAL = (
    "INSERT INTO axolotl_local_identity (owner, identity_key_pair, registration_id) "
    "VALUES (%s, %s, %s)"
)
SQL_GET_SESSION = (
    "SELECT record FROM axolotl_sessions WHERE owner = %s AND name = %s AND device_id = %s"
)
SQL_PUT_SESSION = (
    "INSERT INTO axolotl_sessions (owner, name, device_id, record) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (owner, name, device_id) DO UPDATE SET record = excluded.record"
)
SQL_GET_SENDER_KEY = (
    "SELECT record FROM axolotl_sender_keys "
    "WHERE owner = %s AND group_id = %s AND sender_name = %s AND sender_device_id = %s"
)
SQL_PUT_SENDER_KEY = (
    "INSERT INTO axolotl_sender_keys (owner, group_id, sender_name, sender_device_id, record) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (owner, group_id, sender_name, sender_device_id) "
    "DO UPDATE SET record = excluded.record"
)
SQL = Statements(
    get_identity=(
        "SELECT public_key FROM axolotl_identities "
        "WHERE owner = %s AND name = %s AND device_id = %s"
    ),
    put_identity=(
        "INSERT INTO axolotl_identities (owner, name, device_id, public_key) "
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (owner, name, device_id) DO UPDATE SET public_key = excluded.public_key"
    ),
    get_pre_key="SELECT record FROM axolotl_pre_keys WHERE owner = %s AND id = %s",
    put_pre_key=(
        "INSERT INTO axolotl_pre_keys (owner, id, record) VALUES (%s, %s, %s) "
        "ON CONFLICT (owner, id) DO UPDATE SET record = excluded.record"
    ),
    has_pre_key="SELECT 1 FROM axolotl_pre_keys WHERE owner = %s AND id = %s",
    del_pre_key="DELETE FROM axolotl_pre_keys WHERE owner = %s AND id = %s",
    get_counter="SELECT value FROM axolotl_key_counters WHERE owner = %s AND name = %s",
    put_counter=(
        "INSERT INTO axolotl_key_counters (owner, name, value) VALUES (%s, %s, %s) "
        "ON CONFLICT (owner, name) DO UPDATE SET value = excluded.value"
    ),
    get_signed="SELECT record FROM axolotl_signed_pre_keys WHERE owner = %s AND id = %s",
    all_signed="SELECT id, record FROM axolotl_signed_pre_keys WHERE owner = %s ORDER BY id",
    put_signed=(
        "INSERT INTO axolotl_signed_pre_keys (owner, id, record) VALUES (%s, %s, %s) "
        "ON CONFLICT (owner, id) DO UPDATE SET record = excluded.record"
    ),
    has_signed="SELECT 1 FROM axolotl_signed_pre_keys WHERE owner = %s AND id = %s",
    del_signed="DELETE FROM axolotl_signed_pre_keys WHERE owner = %s AND id = %s",
    has_session="SELECT 1 FROM axolotl_sessions WHERE owner = %s AND name = %s AND device_id = %s",
    del_session="DELETE FROM axolotl_sessions WHERE owner = %s AND name = %s AND device_id = %s",
    del_sessions="DELETE FROM axolotl_sessions WHERE owner = %s AND name = %s",
    sub_devices=(
        "SELECT device_id FROM axolotl_sessions WHERE owner = %s AND name = %s ORDER BY device_id"
    ),
    del_sender_key=(
        "DELETE FROM axolotl_sender_keys "
        "WHERE owner = %s AND group_id = %s AND sender_name = %s AND sender_device_id = %s"
    ),
)
