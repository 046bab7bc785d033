"""Events, registration and check-in (docs/registration.md): ``events`` schedules the days
and opens registration, ``registrations`` takes and changes them, issues their tickets and
marks attendance, ``lists`` exports them (CSV, the Word sign-in sheet), ``mail`` sends the
optional confirmation."""
