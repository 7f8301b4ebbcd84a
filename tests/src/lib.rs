//! End-to-end tests across the api, worker and scheduler live in `tests/tests/`.
