"""Assigns job.status instead of calling job.set_status(): the statuses end right, but nothing
is recorded in job.history and the life cycle is not enforced."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "each status changes when the job really changes",
    "observed": "job 1: history [(0.0, 'pending')], expected",
    "hint": "use job.set_status(...)",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        if job.status is not JobStatus.PENDING:
            return
        job.status = JobStatus.RUNNING
        try:
            job.result = await self.handle(job.item)
        except Exception as error:
            job.error = error
            job.status = JobStatus.FAILED
        except asyncio.CancelledError:
            job.status = JobStatus.CANCELLED
            raise
        else:
            job.status = JobStatus.DONE
