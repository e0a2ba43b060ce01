// vmactions.js: which power actions a VM in a state allows (as the API's
// own table in api_vm_power.c), and their words.
import { post } from './api.js';

export const ACTIONS = [
    { op: 'start', label: 'Start', from: ['halted'] },
    { op: 'shutdown', label: 'Shut down', from: ['running'], confirm: true },
    { op: 'reboot', label: 'Reboot', from: ['running'], confirm: true },
    { op: 'pause', label: 'Pause', from: ['running'] },
    { op: 'resume', label: 'Resume', from: ['paused', 'suspended'] },
    { op: 'suspend', label: 'Suspend', from: ['running', 'paused'] },
    { op: 'destroy', label: 'Force off', from: ['running', 'paused', 'suspended'],
        confirm: true, danger: true },
];

export const allowed = (a, vm) => a.from.includes(vm.state);

export function runAction(vmId, op) {
    return post(`/vms/${vmId}/${op}`);
}
