mod crash;
mod deductions;
mod e2e;
mod employers;
mod pipeline;
mod reps;
mod support;
mod transport;
