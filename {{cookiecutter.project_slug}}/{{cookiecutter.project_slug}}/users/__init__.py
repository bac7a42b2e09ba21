"""The user model, custom from the first migration so that it can grow later."""
