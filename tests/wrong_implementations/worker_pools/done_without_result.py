"""Awaits the handler and sets DONE, but never stores what it returned in job.result."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "a done job holds handle's result in job.result",
    "observed": "job 1: job.result is None",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            await self.handle(job.item)
        except Exception as error:
            job.error = error
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
            raise
        else:
            job.set_status(JobStatus.DONE)
