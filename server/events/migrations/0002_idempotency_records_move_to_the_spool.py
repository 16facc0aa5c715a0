"""Idempotency-Key records move from the relational database into the spool file, where they
commit with their batch (one transaction, one store). Records still within their TTL are copied,
so a client retrying across the upgrade is still answered as a replay."""

from django.conf import settings
from django.db import migrations


def copy_to_spool(apps, schema_editor) -> None:
    record_model = apps.get_model("events", "IdempotencyRecord")
    records = list(record_model.objects.all())
    if not records:
        return  # no spool file is created (or touched) for nothing
    from shipping.spool import KeyRecord, Spool

    spool = Spool(settings.SPOOL_PATH, synchronous=settings.SPOOL_SYNCHRONOUS)
    with spool.transaction() as conn:
        for r in records:
            key = KeyRecord(r.user_id, r.key, r.fingerprint, r.response)
            spool.claim_key(conn, key, r.created_date.timestamp())
    spool.close()


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [
        migrations.RunPython(copy_to_spool, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(name="IdempotencyRecord"),
    ]
