"""On PostgreSQL, NOTIFY idle workers when a task becomes READY (at commit).

SQLite has no NOTIFY; its workers watch PRAGMA data_version instead.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION queue_task_ready_notify() RETURNS trigger AS $$
BEGIN
    -- One payload for all: PostgreSQL folds a transaction's duplicates into one.
    PERFORM pg_notify('queue_task_ready', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER queue_task_ready
AFTER INSERT OR UPDATE OF status ON django_tasks_database_dbtaskresult
FOR EACH ROW WHEN (NEW.status = 'READY')
EXECUTE FUNCTION queue_task_ready_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS queue_task_ready ON django_tasks_database_dbtaskresult;
DROP FUNCTION IF EXISTS queue_task_ready_notify();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("queue", "0001_initial"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(create, drop)]
