# The queue order of a job, from a PostgreSQL sequence, for an O(log n) queue position.

from django.db import migrations, models

SEQUENCE = "generation_queue_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # elsewhere the position is counted (selectors.queue_position)
    job_table = apps.get_model("generation", "GenerationJob")._meta.db_table
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    # Jobs queued now get numbers in their order of entering the queue.
    schema_editor.execute(
        f"UPDATE {job_table} AS j SET queue_seq = n.seq FROM ("  # noqa: S608
        f"SELECT id, nextval('{SEQUENCE}') AS seq FROM (SELECT id FROM {job_table} "
        f"WHERE status = 'queued' ORDER BY queued_at, created_at) AS q) AS n WHERE j.id = n.id"
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_job_attempt_fencing_and_dispatch")]

    operations = [
        migrations.AddField(
            model_name="generationjob",
            name="queue_seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="generationjob",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["queue_seq"],
                name="generation_job_queue_head",
            ),
        ),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
