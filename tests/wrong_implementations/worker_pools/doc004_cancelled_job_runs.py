"""Document 004's worker: sets RUNNING on whatever it takes, so a job cancelled while pending runs anyway."""

EXPECT = {
    "subject": "TaskManager",
    "check": "check_task_manager",
    "property": "run_job changes a status only along pending → running → done | failed | cancelled",
    "observed": "cancelled -> running is not allowed",
}


class TaskManager(BackgroundJobs):
    async def run_job(self, job):
        job.set_status(JobStatus.RUNNING)
        try:
            job.result = await self.handle(job.item)
        except Exception as error:
            job.error = error
            job.set_status(JobStatus.FAILED)
        except asyncio.CancelledError:
            job.set_status(JobStatus.CANCELLED)
            raise
        else:
            job.set_status(JobStatus.DONE)
