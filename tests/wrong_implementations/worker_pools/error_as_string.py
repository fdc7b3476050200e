"""Document 004's manager keeps str(error): the exception's type and traceback are lost."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "a failed job holds the exception itself in job.error",
    "observed": "job 4: job.error is \"item 'd' failed\"",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            job.result = await self.handle(job.item)
        except Exception as error:
            job.error = str(error)
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
            raise
        else:
            job.set_status(JobStatus.DONE)
