"""The worker inside one local Lambda "container" (run by the function's own interpreter).

Started by runtime.Worker with ``python -I -S bootstrap.py``: no site-packages, so the path
is exactly what Lambda's is: the unpacked zip (LAMBDA_TASK_ROOT), the runtime's boto3
(LAMBDA_RUNTIME_DIR), the standard library. It loads the handler once (the init phase,
with the Lambda Python runtime's error types), then serves invocations one at a time:
requests and replies are JSON lines on two private pipes, so whatever the function prints
goes to its log file. Standard library only; runs on every Python the runtime maps to.
"""

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback


class FaultError(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error_payload(error_type, message, trace):
    return {"errorMessage": message, "errorType": error_type, "stackTrace": trace}


def exception_payload(exc):
    trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
    return error_payload(type(exc).__name__, str(exc), trace)


def load_handler(handler):
    """The Lambda Python runtime's _get_handler, with its error types and messages."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from exc
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace
        ) from exc
    try:
        return getattr(module, function_name)
    except AttributeError as exc:
        raise FaultError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from exc


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def install_runtime_logging():
    """The runtime's root handler: [LEVEL] time request-id message, on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def to_json(value):
    def default(obj):
        if isinstance(obj, decimal.Decimal):
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    return json.dumps(value, default=default)


def main():
    requests = os.fdopen(int(os.environ.pop("_DATAPLANE_REQUEST_FD")), "r", encoding="utf-8")
    replies = os.fdopen(int(os.environ.pop("_DATAPLANE_REPLY_FD")), "w", encoding="utf-8")
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path[:0] = [task_root, os.environ["LAMBDA_RUNTIME_DIR"]]
    os.chdir(task_root)

    def reply(message):
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    install_runtime_logging()
    started = time.monotonic()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except FaultError as exc:
        error = error_payload(exc.error_type, exc.message, exc.trace)
    except Exception as exc:
        error = exception_payload(exc)
    else:
        error = None
    if error is not None:
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        reply({"init": "error", "error": error})
        return 1
    reply({"init": "ok", "init_ms": (time.monotonic() - started) * 1000})

    for line in requests:
        request = json.loads(line)
        request_id = request["request_id"]
        RequestIdFilter.request_id = request_id
        context = LambdaContext(request_id, request["deadline_ms"], request["invoked_function_arn"])
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        begin = time.monotonic()
        try:
            result = handler(request["event"], context)
            try:
                message = {"ok": True, "payload": to_json(result)}
            except Exception as exc:
                message = {
                    "ok": False,
                    "error": error_payload(
                        "Runtime.MarshalError", f"Unable to marshal response: {exc}", []
                    ),
                }
        except Exception as exc:
            message = {"ok": False, "error": {**exception_payload(exc), "requestId": request_id}}
            print(f"[ERROR] {type(exc).__name__}: {exc}", flush=True)
        duration_ms = (time.monotonic() - begin) * 1000
        sys.stdout.flush()
        print(f"END RequestId: {request_id}", flush=True)
        print(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms", flush=True)
        message["duration_ms"] = duration_ms
        reply(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
