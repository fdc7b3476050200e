"""Sets RUNNING only once the handler has returned, right before DONE: the job looks pending
for its whole run, so cancelling it takes it for a pending job (and its history says it ran
for no time at all)."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "run_job changes a status only along pending → running → done | failed | cancelled",
    "observed": "job 2: cancelled -> running is not allowed",
    "hint": "set RUNNING before `await self.handle(job.item)`, not after",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        try:
            result = await self.handle(job.item)
        except Exception as error:
            job.set_status(JobStatus.RUNNING)
            job.error = error
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
            raise
        else:
            job.set_status(JobStatus.RUNNING)
            job.result = result
            job.set_status(JobStatus.DONE)
