"""No except around the call: a failing job's error escapes and it stays 'running' forever."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "run_job records a job's failure instead of raising it",
    "observed": "run_job let ItemFailed: item 'd' failed escape for job 4",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        job.result = await self.handle(job.item)
        job.set_status(JobStatus.DONE)
