"""run_job that decides the end status in a `finally:` block from what happened (a local outcome),
so every exit path sets exactly one end status."""


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        outcome = JobStatus.CANCELLED
        try:
            job.result = await self.handle(job.item)
            outcome = JobStatus.DONE
        except Exception as error:
            job.error = error
            outcome = JobStatus.FAILED
        finally:
            job.set_status(outcome)
