"""run_job with one `except BaseException` that tells cancellation from failure with isinstance,
and the result stored only after DONE is decided."""


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status != JobStatus.PENDING:
            return
        job.set_status(JobStatus.RUNNING)
        try:
            value = await self.handle(job.item)
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                job.set_status(JobStatus.CANCELLED)
                raise
            if not isinstance(error, Exception):
                raise
            job.error = error
            job.set_status(JobStatus.FAILED)
            return
        job.result = value
        job.set_status(JobStatus.DONE)
