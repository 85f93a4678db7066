mod crash;
mod e2e;
mod pipeline;
mod reps;
mod support;
mod transport;
