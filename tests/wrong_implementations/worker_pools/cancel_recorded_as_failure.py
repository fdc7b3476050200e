"""Catches BaseException: a cancelled running job is recorded as failed (and the cancellation swallowed)."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "each job ends with the right status",
    "observed": "job 2 (item 'b') ended as 'failed', expected 'cancelled'",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            job.result = await self.handle(job.item)
        except BaseException as error:
            job.error = error
            job.set_status(JobStatus.FAILED)
        else:
            job.set_status(JobStatus.DONE)
