"""One generation counter per database session, in place of the single token row.

A single row was locked by every writing transaction until it committed, so
unrelated writers waited for each other and could deadlock; a row per session is
never shared by two open transactions. Pages stored under the old token miss once.
"""

import secrets

from django.db import migrations, models


def first_generation(apps, schema_editor):
    """Start the sum at a random value, so no token repeats one from before a reinstall."""
    Generation = apps.get_model("pagecache", "Generation")
    Generation.objects.using(schema_editor.connection.alias).create(
        slot=0, count=secrets.randbelow(2**48)
    )


class Migration(migrations.Migration):
    dependencies = [("pagecache", "0001_initial")]

    operations = [
        migrations.DeleteModel(name="Generation"),
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("slot", models.BigIntegerField(primary_key=True, serialize=False)),
                ("count", models.BigIntegerField()),
            ],
            options={
                "db_table": "page_cache_generation",
            },
        ),
        migrations.RunPython(first_generation, migrations.RunPython.noop),
    ]
