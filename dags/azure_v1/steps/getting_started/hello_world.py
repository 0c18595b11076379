from azureml.core import Run

print("Hello World!")
run = Run.get_context()
run.log("hello", 1)
run.complete()
