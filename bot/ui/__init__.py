"""Everything that speaks Discord: render, replies and the error path, starting a job, delivery, status cards,
forms, and the persistent buttons in items/."""
