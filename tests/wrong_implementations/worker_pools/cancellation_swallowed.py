"""Records CANCELLED for a job cancelled while running, but does not re-raise: the job's task
ends as if it had finished normally."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "run_job re-raises the cancellation of a running job",
    "observed": "job 2 was cancelled while running, and run_job returned normally",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            job.result = await self.handle(job.item)
        except Exception as error:
            job.error = error
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
        else:
            job.set_status(JobStatus.DONE)
