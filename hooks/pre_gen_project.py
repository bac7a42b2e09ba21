"""Refuse answers that would give a broken project, with one sentence each.

cookiecutter deletes the half-made output directory when this hook exits 1.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Names the project imports, or that Python and pytest already claim.
TAKEN_NAMES = {
    "apscheduler",
    "conftest",
    "config",
    "core",
    "django",
    "django_tasks_db",
    "environ",
    "gunicorn",
    "manage",
    "psycopg",
    "pytest",
    "pytest_django",
    "test",
    "tests",
    "tzlocal",
    "users",
    "whitenoise",
} | set(sys.stdlib_module_names)

# Long enough for any name; short enough that import lines stay within 100 columns.
MAX_SLUG_LENGTH = 40

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def slug_is_a_python_name(answers):
    slug = answers["project_slug"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", slug) or keyword.iskeyword(slug):
        return (
            f"project_slug {slug!r} is not a lowercase Python name: use letters, "
            "digits and underscores, starting with a letter."
        )
    if len(slug) > MAX_SLUG_LENGTH:
        return f"project_slug {slug!r} is longer than {MAX_SLUG_LENGTH} characters."
    return None


def slug_shadows_nothing(answers):
    slug = answers["project_slug"]
    if slug in TAKEN_NAMES:
        return f"project_slug {slug!r} would shadow the module of that name; choose another."
    return None


def email_is_valid(answers):
    email = answers["author_email"]
    if not EMAIL.fullmatch(email):
        return f"author_email {email!r} is not an email address."
    return None


def domain_is_valid(answers):
    domain = answers["domain_name"]
    if not DOMAIN.fullmatch(domain):
        return (
            f"domain_name {domain!r} is not a lowercase host name such as example.com "
            "(no scheme, port or path)."
        )
    return None


VALIDATORS = (slug_is_a_python_name, slug_shadows_nothing, email_is_valid, domain_is_valid)


def main():
    for validate in VALIDATORS:
        error = validate(ANSWERS)
        if error:
            print(f"ERROR: {error}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
