#!/usr/bin/env node
// Runs statemachines/train.asl.json (or, with --search, statemachines/search.asl.json) on a second Step Functions engine, aws-local-stepfunctions, whose Lambda Task
// states call the StepML handlers through the real Lambda Invoke API over HTTP (`stepml serve-lambda`): the engine's
// own AWS SDK Lambda client, pointed at the local endpoint with AWS_ENDPOINT_URL_LAMBDA.
//
//   node tests/second-engine/run.mjs --endpoint http://127.0.0.1:PORT [--asl FILE] [--verbose] [JOB.json | -]
//
// The job spec comes from the file argument, or from standard input when it is absent or '-'. Prints the final
// execution's output JSON on one line and exits 0; on a failed execution prints {"status":"FAILED","error",
// "cause"} and exits 1; on a usage error exits 2.
//
// What this engine does with the ASL (aws-local-stepfunctions 3.0.0, read from its source):
// - Map ItemProcessor.ProcessorConfig (Mode DISTRIBUTED, ExecutionType EXPRESS) is ignored: iterations run inline.
// - Map ToleratedFailurePercentagePath is ignored: any failed iteration fails the Map (StepML's default, 0%, agrees).
// - Map MaxConcurrencyPath is honoured, but 0 means the engine's default of 40 rather than "no limit".
// - Retry JitterStrategy FULL and MaxDelaySeconds are honoured.
// - A Task without TimeoutSeconds times out after 60 s (AWS waits for the function's own timeout).
// - Its Lambda client reports an SDK or HTTP failure under the SDK's error name, never Lambda.ServiceException,
//   Lambda.SdkClientException, ...: the ASL's Retry on those names is never exercised here.
// - It has no service integrations: `arn:aws:states:::states:startExecution` (the ContinueAsNew state) would be sent
//   to Lambda as a function name. This script overrides that one Task with a local handler that does what the
//   integration does: it names and queues a new execution of the same state machine with the state's Input and
//   returns {ExecutionArn, StartDate}; when the current execution has ended (at Continued), the queued one runs.
//   The Lambda tasks are never overridden.
// - Its Context Object holds only Execution.Input and Execution.StartTime unless given more: this script supplies
//   Execution.Id/Name and StateMachine.Id/Name, which the ContinueAsNew Parameters read.
// - It keeps no 25,000-event history limit and writes no history; `stepml history` has nothing for these runs.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Node 20 lacks Promise.withResolvers, which the engine calls in every Task state.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolvePromise;
    let rejectPromise;
    const promise = new this((res, rej) => {
      resolvePromise = res;
      rejectPromise = rej;
    });
    return { promise, resolve: resolvePromise, reject: rejectPromise };
  };
}

const { StateMachine, ExecutionError } = await import('aws-local-stepfunctions');

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const STATE_MACHINE_NAME = 'stepml-train';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
const FUNCTIONS = ['Prepare', 'Worker', 'Merge', 'Decide', 'Finalize', 'RecordFailure', 'Partition', 'Search'];
const MAX_EXECUTIONS = 1000;

function usage(message) {
  process.stderr.write(`run.mjs: ${message}\n` +
    'usage: node tests/second-engine/run.mjs --endpoint http://127.0.0.1:PORT [--asl FILE] [--search] [--verbose] [JOB.json | SEARCH.json | -]\n' +
    '  --search    run statemachines/search.asl.json with a search spec; its trials run the training machine here\n' +
    '  --endpoint  the Lambda Invoke API endpoint of `stepml serve-lambda` (or STEPML_LAMBDA_ENDPOINT)\n');
  process.exit(2);
}

function parseArgs(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const options = { endpoint: process.env.STEPML_LAMBDA_ENDPOINT, asl: resolve(here, '../../statemachines/train.asl.json'), verbose: false, job: '-', search: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--endpoint' || arg === '--asl') {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      options[arg.slice(2)] = argv[++i];
    } else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--search') options.search = true;
    else if (arg === '--help' || arg === '-h') usage('help');
    else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length > 1) usage(`give one job spec, got ${positional.length}: ${positional.join(' ')}`);
  if (positional.length === 1) options.job = positional[0];
  if (!options.endpoint) usage('--endpoint is required (the address `stepml serve-lambda` prints)');
  try {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    usage(`--endpoint '${options.endpoint}' is not an http:// URL`);
  }
  return options;
}

export function functionArn(name) {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:stepml-${name}`;
}

// Substitutes ${XFunctionArn} the way CDK's DefinitionSubstitutions does, and refuses leftovers.
export function loadDefinition(aslPath) {
  let text = readFileSync(aslPath, 'utf8');
  for (const name of FUNCTIONS) text = text.split('${' + name + 'FunctionArn}').join(functionArn(name));
  text = text.split('${TrainStateMachineArn}').join(STATE_MACHINE_ARN);
  const left = text.match(/\$\{[A-Za-z0-9_]+\}/);
  if (left) throw new Error(`${aslPath}: no substitution for ${left[0]}; run.mjs knows ${FUNCTIONS.map((f) => f + 'FunctionArn').join(', ')}`);
  return JSON.parse(text);
}

function readJob(job) {
  const text = job === '-' ? readFileSync(0, 'utf8') : readFileSync(job, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    usage(`${job === '-' ? 'standard input' : job} is not JSON: ${e.message}`);
  }
}

async function logEvents(eventLogs, executionName) {
  for await (const event of eventLogs) {
    if (event.type === 'StateEntered' || event.type === 'StateFailed' || event.type === 'StateRetried' || event.type === 'StateCaught') {
      const suffix = event.Error ? ` ${event.Error}` : '';
      process.stderr.write(`[${executionName}] ${event.type} ${event.state.name}${suffix}\n`);
    }
  }
}

export async function runChain(definition, input, { verbose = false, name = null } = {}) {
  const machine = new StateMachine(definition, {
    // Fixed dummy keys: the endpoint is local, and the default credential chain must not go looking elsewhere.
    awsConfig: { region: REGION, credentials: { accessKeys: { accessKeyId: 'stepml-local', secretAccessKey: 'stepml-local' } } },
  });
  const names = new Set();
  let next = { name: name ?? 'second-engine-' + Date.now().toString(36), input };
  let executions = 0;
  while (next) {
    const current = next;
    next = null;
    if (++executions > MAX_EXECUTIONS) throw new Error(`more than ${MAX_EXECUTIONS} chained executions: stopping`);
    names.add(current.name);
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${STATE_MACHINE_NAME}:${current.name}`;
    const startExecution = async (request) => {
      // What arn:aws:states:::states:startExecution does: start (here: queue) a new execution and return at once.
      if (request.StateMachineArn !== STATE_MACHINE_ARN) throw new Error(`startExecution of an unknown state machine ${request.StateMachineArn}`);
      if (names.has(request.Name)) {
        const error = new Error(`Execution Already Exists: '${request.Name}'`);
        error.name = 'StepFunctions.ExecutionAlreadyExistsException';
        throw error;
      }
      next = { name: request.Name, input: request.Input };
      return { ExecutionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${STATE_MACHINE_NAME}:${request.Name}`, StartDate: new Date().toISOString() };
    };
    const execution = machine.run(current.input, {
      overrides: { taskResourceLocalHandlers: { ContinueAsNew: startExecution } },
      context: {
        Execution: { Id: executionArn, Name: current.name, RoleArn: `arn:aws:iam::${ACCOUNT}:role/stepml-local` },
        StateMachine: { Id: STATE_MACHINE_ARN, Name: STATE_MACHINE_NAME },
      },
    });
    const logging = verbose ? logEvents(execution.eventLogs, current.name) : Promise.resolve();
    const output = await execution.result;
    await logging;
    if (verbose) process.stderr.write(`[${current.name}] SUCCEEDED${next ? ` -> continues as ${next.name}` : ''}\n`);
    if (!next) return { output, executions };
  }
  throw new Error('unreachable');
}

// The search machine (statemachines/search.asl.json) on this engine. It has no startExecution.sync:2 integration, so
// its Train state is overridden by a local handler that does what the integration does: runs the training machine to
// its end (continue-as-new chain included, through runChain) with the state's Input, and returns DescribeExecution's
// fields; a failed trial fails the task with States.TaskFailed and that response, Status FAILED, as the cause.
export async function runSearch(definition, trainDefinition, spec, { verbose = false } = {}) {
  const machine = new StateMachine(definition, {
    awsConfig: { region: REGION, credentials: { accessKeys: { accessKeyId: 'stepml-local', secretAccessKey: 'stepml-local' } } },
  });
  const train = async (request) => {
    if (request.StateMachineArn !== STATE_MACHINE_ARN) throw new Error(`startExecution.sync:2 of an unknown state machine ${request.StateMachineArn}`);
    const started = Date.now();
    const describe = { ExecutionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${STATE_MACHINE_NAME}:${request.Name}`, Input: request.Input,
      InputDetails: { Included: true }, Name: request.Name, StartDate: started, StateMachineArn: STATE_MACHINE_ARN };
    try {
      const { output } = await runChain(trainDefinition, request.Input, { verbose, name: request.Name });
      return { ...describe, Output: output, OutputDetails: { Included: true }, Status: 'SUCCEEDED', StopDate: Date.now() };
    } catch (e) {
      const failure = e instanceof ExecutionError && e.cause ? e.cause : e;
      const error = new Error(JSON.stringify({ ...describe, Status: 'FAILED', StopDate: Date.now(), Error: failure.name ?? 'Error', Cause: String(failure.message) }));
      error.name = 'States.TaskFailed';
      throw error;
    }
  };
  const execution = machine.run(spec, {
    overrides: { taskResourceLocalHandlers: { Train: train } },
    context: {
      Execution: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:stepml-search:second-engine`, Name: 'second-engine' },
      StateMachine: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:stepml-search`, Name: 'stepml-search' },
    },
  });
  return execution.result;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  // The engine creates a default SDK Lambda client per Task; the SDK reads its endpoint from this variable.
  process.env.AWS_ENDPOINT_URL_LAMBDA = options.endpoint;
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  const here = dirname(fileURLToPath(import.meta.url));
  const definition = loadDefinition(options.search && options.asl.endsWith('train.asl.json') ? resolve(here, '../../statemachines/search.asl.json') : options.asl);
  const input = readJob(options.job);
  try {
    const output = options.search
      ? await runSearch(definition, loadDefinition(resolve(here, '../../statemachines/train.asl.json')), input, options)
      : (await runChain(definition, input, options)).output;
    process.stdout.write(JSON.stringify(output) + '\n');
    return 0;
  } catch (e) {
    const failure = e instanceof ExecutionError && e.cause ? e.cause : e;
    const error = failure.name ?? 'Error';
    const cause = typeof failure.message === 'string' ? failure.message : String(failure);
    process.stdout.write(JSON.stringify({ status: 'FAILED', error, cause }) + '\n');
    process.stderr.write(`execution FAILED: ${error}: ${cause}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
