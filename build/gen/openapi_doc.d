build/gen/openapi_doc.o: build/gen/openapi_doc.c
