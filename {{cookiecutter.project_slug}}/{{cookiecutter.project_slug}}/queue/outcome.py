"""Store how a task ended; what the database cannot store is stored as a clear error.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

A task whose function returned is never run again: a return value that is not JSON,
or text the database refuses (a NUL character, on some databases), becomes a FAILED
result that says so. Only a database out of reach raises, for the worker to wait
out; the function is not called again.
"""

from datetime import timedelta
from traceback import format_exception

from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

# Database errors that mean "out of reach, try again" rather than "this cannot be stored".
OUTAGES = (OperationalError, InterfaceError)


class ResultNotStored(Exception):
    """The task's function returned, but what it returned cannot be stored."""


def text_safe(text):
    """The text with what databases refuse written out: NUL and lone surrogates."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def error_fields(error, *, note=None):
    traceback = "".join(format_exception(error))
    if note:
        traceback += f"\n{note}\n"
    return {
        "exception_class_path": text_safe(f"{type(error).__module__}.{type(error).__qualname__}"),
        "traceback": text_safe(traceback),
    }


def task_succeed(db_task_result, value):
    """Mark the task SUCCESSFUL with its return value, or FAILED saying why it cannot be."""
    try:
        stored = ours(db_task_result).update(
            status=TaskResultStatus.SUCCESSFUL,
            finished_at=Now(),
            return_value=value,
            exception_class_path="",
            traceback="",
        )
    except OUTAGES:
        raise
    except (DatabaseError, TypeError, ValueError) as error:
        task_fail(
            db_task_result,
            ResultNotStored(f"The task returned, but its return value cannot be stored: {error}"),
            note="It is not run again. Return JSON: numbers, text, lists, dicts, None.",
        )
        return
    if stored:
        remember(db_task_result, status=TaskResultStatus.SUCCESSFUL, return_value=value)


def task_fail(db_task_result, error, *, note=None, only_if=None):
    """Mark the task FAILED with the error's class and traceback, made safe to store."""
    fields = error_fields(error, note=note)
    rows = ours(db_task_result) if only_if is None else only_if
    try:
        rows.update(status=TaskResultStatus.FAILED, finished_at=Now(), return_value=None, **fields)
    except OUTAGES:
        raise
    except DatabaseError as refused:  # whatever it was, an ASCII line stores everywhere
        path = fields["exception_class_path"].encode("ascii", "replace").decode()
        fields = {
            "exception_class_path": path,
            "traceback": f"The error could not be stored: {type(refused).__name__}",
        }
        rows.update(status=TaskResultStatus.FAILED, finished_at=Now(), return_value=None, **fields)
    remember(db_task_result, status=TaskResultStatus.FAILED, return_value=None, **fields)


def task_retry(db_task_result, error, *, delay):
    """Put a failed task back in the queue after a delay, keeping its error visible."""
    fields = error_fields(error)
    ours(db_task_result).update(
        status=TaskResultStatus.READY, run_after=Now() + timedelta(seconds=delay), **fields
    )
    remember(db_task_result, status=TaskResultStatus.READY, **fields)


def ours(db_task_result):
    return DBTaskResult.objects.filter(id=db_task_result.id)


def remember(db_task_result, **fields):
    """Set on the instance what was stored, for the task_finished signal's receivers."""
    for name, value in fields.items():
        setattr(db_task_result, name, value)
    db_task_result.finished_at = timezone.now()  # shown only; the row has the database's
