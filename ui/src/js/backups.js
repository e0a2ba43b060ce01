// backups.js: the backup screens, one chunk loaded on first visit
// (main.jsx and vmpage.jsx import() it): repositories, jobs with their
// schedule editor, job history, restore points and the restore wizard.
export { Repositories, RepoSnapshots } from './bkrepos.jsx';
export { Jobs } from './bkjobs.jsx';
export { JobHistory } from './bkhistory.jsx';
export { VmBackups } from './bkrestore.jsx';
