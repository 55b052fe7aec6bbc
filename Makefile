# Aliases for ./run, the two commands of README.md (./run needs only bash and Python >= 3.11).
.PHONY: app test bench
app:
	./run app
test:
	./run test
bench:
	./run bench
