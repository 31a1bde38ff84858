# State moves for refactors, so an upgrade plans no destroy/create (terraform-aws-modules do the same).

# The dead-letter queue moved into the internal dead-letter-queue module (shared with the
# stream-ingest module); count is kept, so [0] moves to [0].
moved {
  from = aws_sqs_queue.dead_letter
  to   = module.dead_letter_queue.aws_sqs_queue.this
}
